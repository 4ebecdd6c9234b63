# handoff_proto_library(<target> PROTO_DIR <dir> GEN_DIR <dir> PROTOS <rel>...)
#
# Generates the C++ messages and gRPC stubs of each .proto (a path relative
# to PROTO_DIR, which is also protoc's import root) into GEN_DIR, and builds
# them as the static library <target>, whose users include them by the same
# relative paths ("grpc/health/v1/health.pb.h").
function(handoff_proto_library target)
  cmake_parse_arguments(arg "" "PROTO_DIR;GEN_DIR" "PROTOS" ${ARGN})
  file(MAKE_DIRECTORY ${arg_GEN_DIR})
  set(gen_srcs)
  foreach(rel ${arg_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" stem ${rel})
    set(outs ${arg_GEN_DIR}/${stem}.pb.cc ${arg_GEN_DIR}/${stem}.pb.h
             ${arg_GEN_DIR}/${stem}.grpc.pb.cc ${arg_GEN_DIR}/${stem}.grpc.pb.h)
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc
        --proto_path=${arg_PROTO_DIR}
        --cpp_out=${arg_GEN_DIR}
        --grpc_out=${arg_GEN_DIR}
        --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>
        ${arg_PROTO_DIR}/${rel}
      DEPENDS ${arg_PROTO_DIR}/${rel}
      COMMENT "protoc ${rel}")
    list(APPEND gen_srcs ${outs})
  endforeach()
  add_library(${target} STATIC ${gen_srcs})
  target_include_directories(${target} PUBLIC ${arg_GEN_DIR})
  target_link_libraries(${target} PUBLIC gRPC::grpc++ protobuf::libprotobuf)
endfunction()
