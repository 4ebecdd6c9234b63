# Builds the Go interop test: the interop_go_build fixture runs it as
#   cmake -DPROTOC=... -DPROTOC_GEN_GO=... -DGO=... -DPROTO_ROOT=... \
#         -DSOURCE_DIR=... -DBINARY_DIR=... -P build.cmake
# Stubs for handoff/v1/gateway.proto from protoc-gen-go's plugins=grpc
# (Debian's golang-goprotobuf-dev) into BINARY_DIR/gopath/src/handoff/v1, then
# `go test -c` in GOPATH mode, with that GOPATH first and Debian's
# /usr/share/gocode after it, into BINARY_DIR/interop_go.test. Go's build
# cache (BINARY_DIR/go-cache) makes a run after the first one a relink at
# most. Offline: everything comes from Debian packages.
foreach(var PROTOC PROTOC_GEN_GO GO PROTO_ROOT SOURCE_DIR BINARY_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build.cmake needs -D${var}=...")
  endif()
endforeach()

set(gopath ${BINARY_DIR}/gopath)
file(MAKE_DIRECTORY ${gopath}/src)
execute_process(
  COMMAND ${PROTOC} --plugin=protoc-gen-go=${PROTOC_GEN_GO}
          --go_out=plugins=grpc:${gopath}/src --proto_path=${PROTO_ROOT}
          handoff/v1/gateway.proto
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "protoc --go_out=plugins=grpc failed (${rc}): it needs "
          "the protoc-gen-go of Debian's golang-goprotobuf-dev")
endif()

set(ENV{GO111MODULE} off)
set(ENV{GOFLAGS} "")
set(ENV{GOPATH} "${gopath}:/usr/share/gocode")
set(ENV{GOCACHE} ${BINARY_DIR}/go-cache)
execute_process(
  COMMAND ${GO} test -c -o ${BINARY_DIR}/interop_go.test .
  WORKING_DIRECTORY ${SOURCE_DIR}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "go test -c failed (${rc}): it needs Debian's "
          "golang-go, golang-google-grpc-dev and golang-goprotobuf-dev")
endif()
