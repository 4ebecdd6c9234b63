// Copyright 2026 The handoff Authors.
//
// go_gateway: handoffd's design written in Go, for tests/bench/compare_echo.sh
// (GO=1) to measure "faster than the same design in Go" against.
//
//	every call:  request{ctx, job, reply: make(chan result, 1)}
//	admission:   select { jobs <- req; default: RESOURCE_EXHAUSTED }
//	dispatcher:  for req := range jobs {
//	                 select { w := <-idle: w <- req; <-req.ctx.Done(): drop } }
//	worker (N):  for { idle <- mine; req := <-mine; skip if ctx done; run;
//	                   req.reply <- result }   (buffered 1: never blocks)
//	handler:     select { r := <-reply: send r; <-ctx.Done(): DEADLINE_EXCEEDED }
//
// The caller's deadline is the request's context; a call without one gets
// -default_deadline, as in handoffd. What it does not have is handoffd's
// overload control (shedding a job that cannot finish in its deadline,
// CoDel, LIFO under load): it is the plain design, which drops a job only
// once its deadline has passed. DESIGN.md measured such a Go gateway at 3.6%
// of capacity as goodput at twice capacity.
//
// Two methods: Echo, and Work's cpu_us and sleep_us, both observing
// cancellation. Served through grpc-go's unknown-service handler with a
// pass-through codec, so that it needs no generated code (Debian has no
// protoc-gen-go-grpc; tests/interop/go generates stubs with golang/protobuf
// 1.3's plugins=grpc, a package more than this needs). Messages are read and
// written with protowire, field by field, as generated code would. Built in GOPATH mode
// against Debian's golang-google-grpc-dev and golang-google-protobuf-dev
// (see compare_echo.sh).
//
// On SIGTERM it prints "go_gateway: N OK, M failed (R refused), K finished
// late" to stderr and exits: h2load counts HTTP statuses, and a gRPC error
// travels in a 200's trailers, so the script reads the calls' outcomes here.
// "Refused" are the failed calls answered at once (queue full), the only
// failures a client can receive within its deadline: every other one is
// answered at the deadline, which the server counts from after the client
// sent. "Finished late" counts jobs whose work ended after their deadline:
// wasted work.
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
	ctx   context.Context
	run   func(ctx context.Context, worker int, queued time.Duration) result
	start time.Time
	reply chan result
}

type gateway struct {
	jobs            chan request
	idle            chan chan request
	defaultDeadline time.Duration
	ok, failed      int64 // calls answered OK, and otherwise
	refused         int64 // of the failed, those refused at admission
	late            int64 // jobs whose work ended after their deadline
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

func (g *gateway) work(id int) {
	mine := make(chan request)
	for {
		g.idle <- mine
		req := <-mine
		if req.ctx.Err() != nil {
			req.reply <- result{err: status.Error(codes.DeadlineExceeded, "deadline passed before the job started")}
			continue
		}
		r := req.run(req.ctx, id, time.Since(req.start))
		if req.ctx.Err() != nil {
			atomic.AddInt64(&g.late, 1)
		}
		req.reply <- r
	}
}

// fields parses a message: a varint field numbered below len(varints) into
// varints[number], a bytes field numbered below len(bytes) into bytes[number];
// it skips any other field.
func fields(msg []byte, varints []uint64, bytes [][]byte) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return status.Error(codes.Internal, "cannot parse the request")
		}
		msg = msg[n:]
		switch {
		case typ == protowire.VarintType && int(num) < len(varints):
			v, m := protowire.ConsumeVarint(msg)
			if m < 0 {
				return status.Error(codes.Internal, "cannot parse the request")
			}
			varints[num], msg = v, msg[m:]
		case typ == protowire.BytesType && int(num) < len(bytes):
			v, m := protowire.ConsumeBytes(msg)
			if m < 0 {
				return status.Error(codes.Internal, "cannot parse the request")
			}
			bytes[num], msg = v, msg[m:]
		default:
			m := protowire.ConsumeFieldValue(num, typ, msg)
			if m < 0 {
				return status.Error(codes.Internal, "cannot parse the request")
			}
			msg = msg[m:]
		}
	}
	return nil
}

// echo: EchoRequest{payload = 1} -> EchoReply{payload = 1}.
func echo(in []byte) (func(context.Context, int, time.Duration) result, error) {
	b := make([][]byte, 2)
	if err := fields(in, nil, b); err != nil {
		return nil, err
	}
	return func(context.Context, int, time.Duration) result {
		out := protowire.AppendTag(nil, 1, protowire.BytesType)
		return result{reply: protowire.AppendBytes(out, b[1])}
	}, nil
}

var burnSink uint64

// work: WorkRequest{cpu_us = 1, sleep_us = 2, payload = 3} -> WorkReply{
// payload = 1, queued_us = 2, ran_us = 3, worker = 4, cpu_us_done = 5}. The
// CPU budget is wall time on the worker's goroutine (Go has no per-goroutine
// CPU clock); with a P per worker that is its CPU time, and where the
// goroutine is preempted it is less, which if anything favours Go against
// handoffd, whose budget is the worker thread's CPU time.
func work(in []byte) (func(context.Context, int, time.Duration) result, error) {
	v := make([]uint64, 3)
	b := make([][]byte, 4)
	if err := fields(in, v, b); err != nil {
		return nil, err
	}
	cpu, sleep := time.Duration(v[1])*time.Microsecond, time.Duration(v[2])*time.Microsecond
	return func(ctx context.Context, worker int, queued time.Duration) result {
		start := time.Now()
		x := uint64(start.UnixNano()) | 1
		for time.Since(start) < cpu && ctx.Err() == nil {
			for i := 0; i < 4096; i++ {
				x = x*6364136223846793005 + 1
			}
		}
		done := time.Since(start)
		if sleep > 0 && ctx.Err() == nil {
			t := time.NewTimer(sleep)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if err := ctx.Err(); err != nil {
			return result{err: status.FromContextError(err).Err()}
		}
		out := protowire.AppendTag(nil, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, b[3])
		for i, n := range []uint64{uint64(queued.Microseconds()), uint64(time.Since(start).Microseconds()),
			uint64(worker), uint64(done.Microseconds())} {
			out = protowire.AppendTag(out, protowire.Number(i+2), protowire.VarintType)
			out = protowire.AppendVarint(out, n)
		}
		atomic.AddUint64(&burnSink, x) // the multiplies have a use
		return result{reply: out}
	}, nil
}

func (g *gateway) handle(_ interface{}, stream grpc.ServerStream) error {
	err := g.call(stream)
	if err == nil {
		atomic.AddInt64(&g.ok, 1)
	} else {
		atomic.AddInt64(&g.failed, 1)
	}
	return err
}

func (g *gateway) call(stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var in []byte
	if err := stream.RecvMsg(&in); err != nil {
		return err
	}
	var run func(context.Context, int, time.Duration) result
	var err error
	switch method {
	case "/handoff.v1.Gateway/Echo":
		run, err = echo(in)
	case "/handoff.v1.Gateway/Work":
		run, err = work(in)
	default:
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	if err != nil {
		return err
	}
	ctx := stream.Context()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, g.defaultDeadline)
		defer cancel()
	}
	req := request{ctx: ctx, run: run, start: time.Now(), reply: make(chan result, 1)}
	select {
	case g.jobs <- req:
	default:
		atomic.AddInt64(&g.refused, 1)
		return status.Error(codes.ResourceExhausted, "queue full")
	}
	select {
	case r := <-req.reply:
		if r.err != nil {
			return r.err
		}
		return stream.SendMsg(&r.reply)
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
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
		go g.work(i)
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
		fmt.Fprintf(os.Stderr, "go_gateway: %d OK, %d failed (%d refused), %d finished late\n",
			atomic.LoadInt64(&g.ok), atomic.LoadInt64(&g.failed), atomic.LoadInt64(&g.refused),
			atomic.LoadInt64(&g.late))
		os.Exit(0)
	}()
	log.Fatal(s.Serve(lis))
}
