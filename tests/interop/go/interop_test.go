// Calls a real handoffd from Go (grpc-go), as a gateway user's Go service would.
//
// Built and run by ctest (label interop): the interop_go_build fixture
// (build.cmake) generates the stubs with protoc-gen-go's plugins=grpc and
// compiles this file with `go test -c` in GOPATH mode, against Debian's
// golang-google-grpc-dev, golang-goprotobuf-dev and
// golang-github-golang-protobuf-1-3-dev; interop_go runs the binary with
//
//	HANDOFFD=PATH README=PATH GO=PATH GOPATH=... GOCACHE=DIR
//
// TestMain starts handoffd on loopback ports it picks, waits until its health
// check says SERVING, runs the tests one after another (the metrics checks
// count differences, so nothing else may call in between), and stops it,
// which must exit 0. GO, GOPATH and GOCACHE let the README example build with
// the packages the fixture already compiled.
package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/ioutil"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	pb "handoff/v1"
)

var (
	target  string // handoffd's gRPC address
	admin   string // its admin HTTP address
	conn    *grpc.ClientConn
	gateway pb.GatewayClient
	health  healthpb.HealthClient
)

// handoffd's start-up line (server/main.cc), printed once both ports are bound.
var startup = regexp.MustCompile(`serving gRPC on port (\d+) \(admin HTTP on port (\d+)\)`)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	server := exec.Command(os.Getenv("HANDOFFD"),
		"--listen=127.0.0.1:0", "--admin_listen=127.0.0.1:0", "--workers=2")
	server.Stdout = os.Stdout
	stderr, err := server.StderrPipe()
	if err == nil {
		err = server.Start()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting handoffd (HANDOFFD=%q): %v\n", os.Getenv("HANDOFFD"), err)
		return 1
	}
	// Letting handoffd bind port 0 and say what it got leaves no window for
	// another process to take a port between picking and binding it. Its
	// output is passed on to ours.
	ports := make(chan []string, 1)
	eof := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(stderr)
		for lines.Scan() {
			fmt.Fprintln(os.Stderr, lines.Text())
			if p := startup.FindStringSubmatch(lines.Text()); p != nil {
				select {
				case ports <- p:
				default:
				}
			}
		}
		close(eof)
	}()
	exited := make(chan error, 1)
	go func() {
		<-eof // Wait closes the pipe: read it to its end first
		exited <- server.Wait()
	}()
	stop := func() int {
		server.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				fmt.Fprintf(os.Stderr, "handoffd did not exit 0: %v\n", err)
				return 1
			}
			return 0
		case <-time.After(30 * time.Second):
			server.Process.Kill()
			fmt.Fprintln(os.Stderr, "handoffd did not exit within 30s of SIGTERM")
			return 1
		}
	}
	var p []string
	select {
	case p = <-ports:
	case err := <-exited:
		fmt.Fprintf(os.Stderr, "handoffd exited before naming its ports: %v\n", err)
		return 1
	case <-time.After(30 * time.Second):
		fmt.Fprintln(os.Stderr, "handoffd did not name its ports within 30s")
		stop()
		return 1
	}
	target = "127.0.0.1:" + p[1]
	admin = "127.0.0.1:" + p[2]

	conn, err = grpc.Dial(target, grpc.WithInsecure())
	if err != nil {
		fmt.Fprintf(os.Stderr, "dial %s: %v\n", target, err)
		stop()
		return 1
	}
	gateway = pb.NewGatewayClient(conn)
	health = healthpb.NewHealthClient(conn)
	// SERVING is handoffd's own readiness signal; the deadline bounds the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	reply, err := health.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	cancel()
	if err != nil || reply.Status != healthpb.HealthCheckResponse_SERVING {
		fmt.Fprintf(os.Stderr, "handoffd not SERVING: %v %v\n", reply, err)
		conn.Close()
		stop()
		return 1
	}
	code := m.Run()
	conn.Close()
	if stop() != 0 {
		return 1
	}
	return code
}

func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// metric reads one series from handoffd's /metrics, written as it appears
// there (`handoff_calls_total{method="Work",code="CANCELLED"}`); a series
// handoffd leaves out (a code no call has had) reads 0.
func metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := ioutil.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %v", resp.Status, err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, series+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, series+" "), 64)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			return v
		}
	}
	return 0
}

// waitForMetric polls /metrics until `series` reads `want`, failing the test
// if it has not within `bound`. handoffd counts a call when gRPC is done with
// it, which may be just after the client has its status.
func waitForMetric(t *testing.T, series string, want float64, bound time.Duration) {
	t.Helper()
	end := time.Now().Add(bound)
	for {
		got := metric(t, series)
		if got == want {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%s is %v, want %v within %v", series, got, want, bound)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// assertRefused checks a call's status: its code, handoffd's own message, and
// no rich error details (handoffd sends none, so grpc-status-details-bin
// would be a change to document).
func assertRefused(t *testing.T, err error, code codes.Code, messageStart string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("not a gRPC status: %v", err)
	}
	if st.Code() != code || !strings.HasPrefix(st.Message(), messageStart) {
		t.Fatalf("got %v %q, want %v %q...", st.Code(), st.Message(), code, messageStart)
	}
	if details := st.Proto().GetDetails(); len(details) != 0 {
		t.Fatalf("rich error details: %v", details)
	}
}

func TestHealthServing(t *testing.T) {
	reply, err := health.Check(within(t, 5*time.Second), &healthpb.HealthCheckRequest{Service: ""})
	if err != nil || reply.Status != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("Check: %v %v", reply, err)
	}
}

func TestEchoRoundTrip(t *testing.T) {
	reply, err := gateway.Echo(within(t, 5*time.Second), &pb.EchoRequest{Payload: []byte("hello")})
	if err != nil || string(reply.Payload) != "hello" {
		t.Fatalf("Echo: %v %v", reply, err)
	}
}

func TestWorkReturnsItsPayloadAndTimings(t *testing.T) {
	reply, err := gateway.Work(within(t, 5*time.Second),
		&pb.WorkRequest{CpuUs: 3000, SleepUs: 1000, Payload: []byte("w")})
	if err != nil {
		t.Fatalf("Work: %v", err)
	}
	if string(reply.Payload) != "w" {
		t.Errorf("payload %q, want \"w\"", reply.Payload)
	}
	if reply.CpuUsDone < 3000 {
		t.Errorf("cpu_us_done %d, want at least cpu_us 3000", reply.CpuUsDone)
	}
	if reply.RanUs < 4000 {
		t.Errorf("ran_us %d, want at least cpu_us + sleep_us = 4000", reply.RanUs)
	}
	if reply.Worker > 1 {
		t.Errorf("worker %d, want 0 or 1 (--workers=2, 0-based)", reply.Worker)
	}
}

// A Go context's deadline reaches handoffd (as grpc-timeout), ends the call
// DEADLINE_EXCEEDED, and stops the work: the 5 s sleep is counted stopped
// early, long before it would have ended, and never completed.
func TestDeadlineShorterThanTheWorkStopsIt(t *testing.T) {
	const work = `handoff_calls_total{method="Work",code="DEADLINE_EXCEEDED"}`
	calls := metric(t, work)
	stoppedEarly := metric(t, "handoff_work_jobs_stopped_early_total")
	completed := metric(t, "handoff_work_jobs_completed_total")

	start := time.Now()
	_, err := gateway.Work(within(t, 200*time.Millisecond), &pb.WorkRequest{SleepUs: 5000000})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("Work: %v, want DeadlineExceeded", err)
	}
	waitForMetric(t, "handoff_work_jobs_stopped_early_total", stoppedEarly+1, 2*time.Second)
	waitForMetric(t, work, calls+1, 2*time.Second)
	if elapsed := time.Since(start); elapsed >= 5*time.Second {
		t.Fatalf("the work was seen stopped only after %v", elapsed)
	}
	if got := metric(t, "handoff_work_jobs_completed_total"); got != completed {
		t.Fatalf("handoff_work_jobs_completed_total went from %v to %v", completed, got)
	}
}

// The server's own message: the context's deadline reached handoffd, which
// refuses at once a job whose cpu_us cannot fit in it.
func TestDeadlineShorterThanCpuUsIsRefusedByTheServer(t *testing.T) {
	_, err := gateway.Work(within(t, time.Second), &pb.WorkRequest{CpuUs: 5000000})
	assertRefused(t, err, codes.DeadlineExceeded, "deadline too short: ")
}

// Cancelling the context while Work runs ends the call CANCELLED and stops
// the work on the server.
func TestCancelMidWorkStopsIt(t *testing.T) {
	const cancelled = `handoff_calls_total{method="Work",code="CANCELLED"}`
	calls := metric(t, cancelled)
	started := metric(t, "handoff_work_jobs_started_total")
	stoppedEarly := metric(t, "handoff_work_jobs_stopped_early_total")
	completed := metric(t, "handoff_work_jobs_completed_total")

	ctx, cancel := context.WithCancel(within(t, 30*time.Second))
	done := make(chan error, 1)
	go func() {
		_, err := gateway.Work(ctx, &pb.WorkRequest{SleepUs: 20000000})
		done <- err
	}()
	// Cancel once a worker is running the job: the server's own signal.
	waitForMetric(t, "handoff_work_jobs_started_total", started+1, 10*time.Second)
	cancel()
	if err := <-done; status.Code(err) != codes.Canceled {
		t.Fatalf("Work: %v, want Canceled", err)
	}
	waitForMetric(t, "handoff_work_jobs_stopped_early_total", stoppedEarly+1, 5*time.Second)
	waitForMetric(t, cancelled, calls+1, 5*time.Second)
	waitForMetric(t, "handoff_workers_busy", 0, 5*time.Second)
	if got := metric(t, "handoff_work_jobs_completed_total"); got != completed {
		t.Fatalf("handoff_work_jobs_completed_total went from %v to %v", completed, got)
	}
}

func TestStreamRepliesInOrder(t *testing.T) {
	stream, err := gateway.Stream(within(t, 10*time.Second))
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	for i := 0; i < 10; i++ {
		if err := stream.Send(&pb.WorkRequest{Payload: []byte{byte(i)}}); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("CloseSend: %v", err)
	}
	var got []byte
	for {
		reply, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Recv after %v: %v", got, err)
		}
		got = append(got, reply.Payload...)
	}
	if want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}; !bytes.Equal(got, want) {
		t.Fatalf("replies %v, want %v", got, want)
	}
}

// rawCodec sends the bytes it is given, as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

func rawUnary(t *testing.T, method string, request []byte) error {
	var reply []byte
	return conn.Invoke(within(t, 5*time.Second), method, request, &reply,
		grpc.ForceCodec(rawCodec{}))
}

func TestStatusTable(t *testing.T) {
	t.Run("unknown method is UNIMPLEMENTED, naming it", func(t *testing.T) {
		assertRefused(t, rawUnary(t, "/handoff.v1.Gateway/Nope", nil),
			codes.Unimplemented, "unknown method /handoff.v1.Gateway/Nope: ")
	})
	t.Run("bytes that do not parse are INTERNAL", func(t *testing.T) {
		// Field 3 (payload), length-delimited, claiming 5 bytes and having 2.
		assertRefused(t, rawUnary(t, "/handoff.v1.Gateway/Work", []byte{0x1a, 0x05, 'a', 'b'}),
			codes.Internal, "request does not parse")
	})
	t.Run("a field out of range is INVALID_ARGUMENT, naming it", func(t *testing.T) {
		_, err := gateway.Work(within(t, 5*time.Second), &pb.WorkRequest{CpuUs: 10000001})
		assertRefused(t, err, codes.InvalidArgument, "cpu_us: 10000001 is over the cap of 10000000")
		items := []*pb.WorkRequest{{}, {}, {}, {SleepUs: 60000001}}
		_, err = gateway.Batch(within(t, 5*time.Second), &pb.BatchRequest{Items: items})
		assertRefused(t, err, codes.InvalidArgument, "items[3].sleep_us: ")
	})
	t.Run("unknown handler is UNIMPLEMENTED, an empty one INVALID_ARGUMENT", func(t *testing.T) {
		_, err := gateway.Call(within(t, 5*time.Second), &pb.CallRequest{Handler: "nope"})
		assertRefused(t, err, codes.Unimplemented, "no handler named 'nope'")
		_, err = gateway.Call(within(t, 5*time.Second), &pb.CallRequest{Handler: ""})
		assertRefused(t, err, codes.InvalidArgument, "handler: empty")
	})
	t.Run("a message over the limit is RESOURCE_EXHAUSTED", func(t *testing.T) {
		_, err := gateway.Echo(within(t, 10*time.Second), &pb.EchoRequest{Payload: make([]byte, 5<<20)})
		assertRefused(t, err, codes.ResourceExhausted, "Received message larger than max")
	})
}

// readmeSnippet returns the block of README marked `<!-- snippet: NAME -->`,
// as README shows it.
func readmeSnippet(t *testing.T, name, language string) string {
	text, err := ioutil.ReadFile(os.Getenv("README"))
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("<!-- snippet: %s -->\n```%s\n", name, language)
	start := bytes.Index(text, []byte(marker))
	if start < 0 {
		t.Fatalf("README has no %s", strings.TrimSpace(marker))
	}
	body := text[start+len(marker):]
	return string(body[:bytes.Index(body, []byte("\n```"))+1])
}

// README's Go example, built against the packages the fixture compiled (the
// stubs, grpc-go) and run against this handoffd.
func TestReadmeGoExample(t *testing.T) {
	code := readmeSnippet(t, "go_client", "go")
	// The one change: the server README's example calls is this test's.
	const readmeTarget = `"localhost:50051"`
	if n := strings.Count(code, readmeTarget); n != 1 {
		t.Fatalf("README's Go example names %s %d times, want once", readmeTarget, n)
	}
	dir, err := ioutil.TempDir("", "readme_go_client")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "main.go")
	code = strings.Replace(code, readmeTarget, strconv.Quote(target), 1)
	if err := ioutil.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "readme_go_client")
	build := exec.Command(os.Getenv("GO"), "build", "-o", bin, src)
	build.Env = append(os.Environ(), "GO111MODULE=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build README's example: %v\n%s", err, out)
	}
	ctx := within(t, 30*time.Second)
	out, err := exec.CommandContext(ctx, bin).Output()
	if err != nil {
		t.Fatalf("README's example: %v", err)
	}
	if got, want := string(out), "hi\nDeadlineExceeded\n"; got != want {
		t.Fatalf("README's example printed %q, want %q", got, want)
	}
}
