#!/bin/sh
# Regenerates the Go client of proto/ into go/src (the example's GOPATH), or into the GOPATH
# source folder given as $1 (the test compares a fresh generation with the committed one).
#
# Debian's protoc-gen-go 1.3 (golang-goprotobuf-dev) and its plugins=grpc mode, so that the
# client builds with Debian's grpc-go 1.33 and no Go module proxy. The M mapping points
# timestamp.proto at the package that Debian's github.com/golang/protobuf provides.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/go/src}
mkdir -p "$out"
cd "$root"
protoc -I proto -I /usr/include \
  --go_out="plugins=grpc,Mgoogle/protobuf/timestamp.proto=github.com/golang/protobuf/ptypes/timestamp:$out" \
  proto/clustertoken/v1/cluster_token_service.proto
