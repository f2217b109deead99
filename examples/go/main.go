// Command cluster-token-client calls cluster-token-service over gRPC with the Go
// client that protoc-gen-go and grpc-go generate from proto/: it lists the
// clusters the caller may see, mints a token for each cluster named on the
// command line, and decodes the google.rpc.ErrorInfo that every error of the
// service carries.
//
// It prints one JSON object per line. It never prints a token, only its
// scheme (the part before the first "."), because a token is a credential.
//
//	cluster-token-client -addr 127.0.0.1:50051 demo-eks no-such-cluster
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"strings"
	"time"

	clustertokenv1 "github.com/example/cluster-token-service/gen/go/clustertoken/v1"
	"github.com/golang/protobuf/ptypes"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// exitRPCFailed is the exit status when any call failed; 2 is for usage errors, as flag uses it.
const exitRPCFailed = 1

type options struct {
	addr      string
	caFile    string
	certFile  string
	keyFile   string
	apiKeyEnv string
	timeout   time.Duration
	pageSize  int
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:50051", "host:port of the service's gRPC listener")
	flag.StringVar(&o.caFile, "ca-file", "", "PEM CA bundle that verifies the service's certificate (TLS); plaintext when empty")
	flag.StringVar(&o.certFile, "cert-file", "", "PEM client certificate, for mTLS")
	flag.StringVar(&o.keyFile, "key-file", "", "PEM private key of -cert-file")
	flag.StringVar(&o.apiKeyEnv, "api-key-env", "", "name of an environment variable holding an API key (sent as authorization: Bearer)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline of each call")
	flag.IntVar(&o.pageSize, "page-size", 0, "ListClusters page size (0: the service's default)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] [CLUSTER_ID...]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(o, flag.Args()); err != nil {
		var failed rpcFailed
		if errors.As(err, &failed) {
			os.Exit(exitRPCFailed)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

// rpcFailed reports that at least one call failed (each failure was printed already).
type rpcFailed struct{ count int }

func (e rpcFailed) Error() string { return fmt.Sprintf("%d calls failed", e.count) }

func run(o options, clusterIDs []string) error {
	dialOption, err := transportCredentials(o)
	if err != nil {
		return err
	}
	dialCtx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	conn, err := grpc.DialContext(dialCtx, o.addr, dialOption, grpc.WithBlock())
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", o.addr, err)
	}
	defer conn.Close()
	client := clustertokenv1.NewClusterTokenServiceClient(conn)

	callContext := func() (context.Context, context.CancelFunc) {
		ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
		if o.apiKeyEnv != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+os.Getenv(o.apiKeyEnv))
		}
		return ctx, cancel
	}

	failures := 0
	clusters, err := listAll(client, callContext, int32(o.pageSize))
	if err != nil {
		failures++
		printError("ListClusters", "", err)
	} else {
		printJSON(map[string]interface{}{"rpc": "ListClusters", "clusters": clusters})
	}
	for _, id := range clusterIDs {
		ctx, cancel := callContext()
		response, err := client.GenerateToken(ctx, &clustertokenv1.GenerateTokenRequest{ClusterId: id})
		cancel()
		if err != nil {
			failures++
			printError("GenerateToken", id, err)
			continue
		}
		expiration, err := ptypes.Timestamp(response.GetStatus().GetExpirationTimestamp())
		if err != nil {
			return fmt.Errorf("GenerateToken %s: invalid expiration: %w", id, err)
		}
		token := response.GetStatus().GetToken()
		printJSON(map[string]interface{}{
			"rpc":         "GenerateToken",
			"cluster":     id,
			"kind":        response.GetKind(),
			"apiVersion":  response.GetApiVersion(),
			"tokenScheme": strings.SplitN(token, ".", 2)[0],
			"tokenBytes":  len(token),
			"expiration":  expiration.UTC().Format(time.RFC3339),
		})
	}
	if failures > 0 {
		return rpcFailed{failures}
	}
	return nil
}

// listAll follows next_page_token until the last page (AIP-158).
func listAll(
	client clustertokenv1.ClusterTokenServiceClient,
	callContext func() (context.Context, context.CancelFunc),
	pageSize int32,
) ([]map[string]interface{}, error) {
	clusters := []map[string]interface{}{}
	request := &clustertokenv1.ListClustersRequest{PageSize: pageSize}
	for {
		ctx, cancel := callContext()
		page, err := client.ListClusters(ctx, request)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, c := range page.GetClusters() {
			clusters = append(clusters, map[string]interface{}{"id": c.GetId(), "provider": c.GetProvider(), "region": c.GetRegion()})
		}
		if page.GetNextPageToken() == "" {
			return clusters, nil
		}
		request.PageToken = page.GetNextPageToken()
	}
}

// printError prints a failed call with its status code and the google.rpc.ErrorInfo it carries
// (in grpc-status-details-bin; importing errdetails registers the type that Details() resolves).
func printError(rpc, clusterID string, err error) {
	line := map[string]interface{}{"rpc": rpc, "error": true}
	if clusterID != "" {
		line["cluster"] = clusterID
	}
	st, ok := status.FromError(err)
	if !ok {
		line["message"] = err.Error()
		printJSON(line)
		return
	}
	line["code"] = st.Code().String()
	line["message"] = st.Message()
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			line["reason"] = info.GetReason()
			line["domain"] = info.GetDomain()
			line["metadata"] = info.GetMetadata()
		}
	}
	printJSON(line)
}

func printJSON(value interface{}) {
	encoded, err := json.Marshal(value)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(encoded))
}

// transportCredentials is TLS (and mTLS with a client certificate) when a CA file is given, plaintext otherwise.
func transportCredentials(o options) (grpc.DialOption, error) {
	if o.caFile == "" {
		if o.certFile != "" || o.keyFile != "" {
			return nil, errors.New("-cert-file and -key-file need -ca-file (TLS)")
		}
		return grpc.WithInsecure(), nil
	}
	pem, err := ioutil.ReadFile(o.caFile)
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", o.caFile)
	}
	config := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if o.certFile != "" || o.keyFile != "" {
		pair, err := tls.LoadX509KeyPair(o.certFile, o.keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(config)), nil
}
