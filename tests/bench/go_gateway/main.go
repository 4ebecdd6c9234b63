// Copyright 2026 The handoff Authors.
//
// go_gateway: handoffd's design written in Go, for tests/bench/compare_echo.sh
// (GO=1) to measure "faster than the same design in Go" against.
//
//	every call:  Request{ctx, payload, reply: make(chan result, 1)}
//	admission:   select { jobs <- req; default: RESOURCE_EXHAUSTED }
//	dispatcher:  for req := range jobs {
//	                 select { w := <-idle: w <- req; <-req.ctx.Done(): drop } }
//	worker (N):  for { idle <- mine; req := <-mine; skip if ctx done; run;
//	                   req.reply <- result }   (buffered 1: never blocks)
//	handler:     select { r := <-reply: send r; <-ctx.Done(): DEADLINE_EXCEEDED }
//
// The caller's deadline is the request's context; a call without one gets
// -default_deadline, as in handoffd. Echo only (/handoff.v1.Gateway/Echo),
// served through grpc-go's unknown-service handler with a pass-through codec:
// Debian packages grpc-go but no protoc-gen-go-grpc, so there is no generated
// service code. The payload is read and written with protowire, field 1, as
// generated code would. Built in GOPATH mode against Debian's
// golang-google-grpc-dev and golang-google-protobuf-dev (see compare_echo.sh).
//
// On SIGTERM it prints "go_gateway: N OK, M failed" to stderr and exits:
// h2load counts HTTP statuses, and a gRPC error travels in a 200's trailers,
// so the script checks the calls' outcomes here.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// rawCodec hands the handler the message bytes as they came, and sends the
// bytes it is given.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *v.(*[]byte), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) String() string { return "proto" }

type result struct {
	reply []byte
	err   error
}

type request struct {
	ctx     context.Context
	payload []byte
	reply   chan result
}

type gateway struct {
	jobs            chan request
	idle            chan chan request
	defaultDeadline time.Duration
	ok, failed      int64 // calls answered OK, and otherwise
}

func (g *gateway) dispatch() {
	for req := range g.jobs {
		select {
		case w := <-g.idle:
			w <- req
		case <-req.ctx.Done():
			req.reply <- result{err: status.Error(codes.DeadlineExceeded, "expired in the queue")}
		}
	}
}

func (g *gateway) work() {
	mine := make(chan request)
	for {
		g.idle <- mine
		req := <-mine
		if req.ctx.Err() != nil {
			req.reply <- result{err: status.Error(codes.DeadlineExceeded, "deadline passed before the job started")}
			continue
		}
		req.reply <- echo(req.payload)
	}
}

// echo parses an EchoRequest and returns the EchoReply with its payload.
func echo(msg []byte) result {
	var payload []byte
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return result{err: status.Error(codes.Internal, "bad EchoRequest")}
		}
		msg = msg[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(msg)
			if m < 0 {
				return result{err: status.Error(codes.Internal, "bad EchoRequest")}
			}
			payload, msg = v, msg[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, msg)
		if m < 0 {
			return result{err: status.Error(codes.Internal, "bad EchoRequest")}
		}
		msg = msg[m:]
	}
	out := protowire.AppendTag(nil, 1, protowire.BytesType)
	return result{reply: protowire.AppendBytes(out, payload)}
}

func (g *gateway) handle(_ interface{}, stream grpc.ServerStream) error {
	err := g.echo(stream)
	if err == nil {
		atomic.AddInt64(&g.ok, 1)
	} else {
		atomic.AddInt64(&g.failed, 1)
	}
	return err
}

func (g *gateway) echo(stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	if method != "/handoff.v1.Gateway/Echo" {
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	var in []byte
	if err := stream.RecvMsg(&in); err != nil {
		return err
	}
	ctx := stream.Context()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.defaultDeadline)
		defer cancel()
	}
	req := request{ctx: ctx, payload: in, reply: make(chan result, 1)}
	select {
	case g.jobs <- req:
	default:
		return status.Error(codes.ResourceExhausted, "queue full")
	}
	select {
	case r := <-req.reply:
		if r.err != nil {
			return r.err
		}
		return stream.SendMsg(&r.reply)
	case <-ctx.Done():
		if ctx.Err() == context.DeadlineExceeded {
			return status.Error(codes.DeadlineExceeded, "deadline exceeded")
		}
		return status.Error(codes.Canceled, "cancelled")
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:50051", "address to serve gRPC on")
	workers := flag.Int("workers", runtime.NumCPU(), "worker goroutines")
	queueDepth := flag.Int("queue_depth", 256, "jobs that may wait for a worker")
	defaultDeadline := flag.Duration("default_deadline", 10*time.Second, "deadline of a call whose client set none")
	flag.Parse()

	g := &gateway{
		jobs:            make(chan request, *queueDepth),
		idle:            make(chan chan request, *workers),
		defaultDeadline: *defaultDeadline,
	}
	go g.dispatch()
	for i := 0; i < *workers; i++ {
		go g.work()
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("-listen: %v", err)
	}
	s := grpc.NewServer(grpc.CustomCodec(rawCodec{}), grpc.UnknownServiceHandler(g.handle))
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		fmt.Fprintf(os.Stderr, "go_gateway: %d OK, %d failed\n",
			atomic.LoadInt64(&g.ok), atomic.LoadInt64(&g.failed))
		os.Exit(0)
	}()
	log.Fatal(s.Serve(lis))
}
