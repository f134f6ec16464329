package objects_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"golang.org/x/sync/errgroup"

	"github.com/matlens/matlens/ingest/objects"
)

// Azurite's well-known development account (public, in Microsoft's docs).
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azurite is one running azurite-blob.
type azurite struct {
	// Endpoint is the account's blob service URL,
	// http://127.0.0.1:PORT/devstoreaccount1.
	Endpoint string
}

// ConnString is the development account's connection string, with key.
func (a azurite) ConnString(key string) string {
	return "DefaultEndpointsProtocol=http;AccountName=" + azuriteAccount + ";AccountKey=" + key +
		";BlobEndpoint=" + a.Endpoint + ";"
}

// startAzurite runs azurite-blob in memory on a free port until the test
// ends. Without azurite-blob on PATH the test skips, or fails under CI=true
// (.ci/run installs it).
func startAzurite(t *testing.T) azurite {
	t.Helper()
	bin, err := exec.LookPath("azurite-blob")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("azurite-blob not on PATH; install it with npm install -g azurite@3.35.0 (see .ci/run)")
		}
		t.Skip("azurite-blob not on PATH; npm install -g azurite@3.35.0 to run the Azure listing tests")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	var out syncBuffer
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		"--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry")
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	a := azurite{Endpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, azuriteAccount)}
	// Any HTTP answer (an unsigned request gets 403) means it is serving.
	deadline := time.Now().Add(30 * time.Second)
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get(a.Endpoint + "?comp=list")
		if err == nil {
			resp.Body.Close()
			return a
		}
		select {
		case err := <-exited:
			t.Fatalf("azurite-blob exited (%v):\n%s", err, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("azurite-blob not answering on port %d after 30s: %v\n%s", port, err, out.String())
		}
	}
}

// syncBuffer collects a child's output written from two pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// seedContainer creates a container holding blobs (name -> size).
func seedContainer(t *testing.T, a azurite, name string, blobs map[string]int) *azblob.Client {
	t.Helper()
	ctx := context.Background()
	client, err := azblob.NewClientFromConnectionString(a.ConnString(azuriteKey), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateContainer(ctx, name, nil); err != nil {
		t.Fatal(err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for key, size := range blobs {
		g.Go(func() error {
			if _, err := client.UploadBuffer(gctx, name, key, make([]byte, size), nil); err != nil {
				return fmt.Errorf("upload %s: %w", key, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	return client
}

// env is an Options.Getenv over a fixed set of variables, so the tests see
// neither the developer's Azure settings nor each other's.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestListAzurePagesEveryBlob(t *testing.T) {
	a := startAzurite(t)
	objects.SetListAzurePageSize(t, 50)
	want := map[string]int64{}
	blobs := map[string]int{}
	for i := range 300 {
		key := fmt.Sprintf("raw/orders/part-%04d.parquet", i)
		want[key] = int64(i % 37)
		blobs[key] = i % 37
	}
	for _, key := range []string{"raw/a b ü.parquet", "raw/日本/データ 1.csv"} {
		want[key] = 11
		blobs[key] = 11
	}
	blobs["other/outside-the-prefix"] = 5
	blobs["rawish"] = 5 // shares the letters, not the prefix "raw/"
	seedContainer(t, a, "data", blobs)

	f := openFile(t)
	src := objects.Source{Kind: objects.KindList, Location: "az://data/raw/"}
	opts := objects.DefaultOptions()
	opts.BatchObjects = 64 // batches that do not line up with the pages
	opts.Getenv = env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnString(azuriteKey)})
	sum, err := objects.Load(context.Background(), f, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Objects != int64(len(want)) || sum.Provider != objects.ProviderAzure || sum.Noncurrent != 0 {
		t.Fatalf("summary = %+v, want %d azure objects, none noncurrent", sum, len(want))
	}
	got := keySizes(t, f, src.ID())
	if len(got) != len(want) {
		t.Errorf("listed %d blobs, want %d", len(got), len(want))
	}
	for k, n := range want {
		if m, ok := got[k]; !ok {
			t.Errorf("%q missing", k)
		} else if m != n {
			t.Errorf("%q: %d bytes, want %d", k, m, n)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%q listed, not under the prefix", k)
		}
	}

	var odd int
	err = f.Conn().QueryRowContext(context.Background(), `SELECT count(*) FROM storage_objects
		WHERE source = $1 AND (bucket <> 'data' OR version IS NOT NULL OR NOT is_latest OR last_modified IS NULL)`,
		src.ID()).Scan(&odd)
	if err != nil {
		t.Fatal(err)
	}
	if odd != 0 {
		t.Errorf("%d rows without bucket data, with a version, not latest or without last_modified", odd)
	}
}

func TestListAzureStorageTiers(t *testing.T) {
	ctx := context.Background()
	a := startAzurite(t)
	client := seedContainer(t, a, "tiers", map[string]int{"hot": 1, "cool": 2, "archive": 3})
	for key, tier := range map[string]blob.AccessTier{"cool": blob.AccessTierCool, "archive": blob.AccessTierArchive} {
		bc := client.ServiceClient().NewContainerClient("tiers").NewBlobClient(key)
		if _, err := bc.SetTier(ctx, tier, nil); err != nil {
			t.Fatalf("set tier %s on %s: %v", tier, key, err)
		}
	}

	f := openFile(t)
	src := objects.Source{Kind: objects.KindList, Location: "az://tiers"}
	opts := objects.DefaultOptions()
	opts.Getenv = env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnString(azuriteKey)})
	if _, err := objects.Load(ctx, f, src, opts); err != nil {
		t.Fatal(err)
	}
	rows, err := f.Conn().QueryContext(ctx,
		"SELECT key, coalesce(storage_class, '') FROM storage_objects WHERE source = $1", src.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var k, class string
		if err := rows.Scan(&k, &class); err != nil {
			t.Fatal(err)
		}
		got[k] = class
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// A blob never tiered reports the account default, Hot (inferred).
	want := map[string]string{"hot": "Hot", "cool": "Cool", "archive": "Archive"}
	for k, class := range want {
		if got[k] != class {
			t.Errorf("%s: storage_class %q, want %q", k, got[k], class)
		}
	}
}

func TestListAzureMissingContainer(t *testing.T) {
	a := startAzurite(t)
	f := openFile(t)
	opts := objects.DefaultOptions()
	opts.Getenv = env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnString(azuriteKey)})
	_, err := objects.Load(context.Background(), f,
		objects.Source{Kind: objects.KindList, Location: "az://no-such-container/x/"}, opts)
	if err == nil {
		t.Fatal("listing a missing container succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, `"no-such-container"`) || !strings.Contains(msg, "not found") {
		t.Fatalf("error %q does not name the container as not found", msg)
	}
	if strings.Contains(msg, azuriteKey) {
		t.Fatalf("error carries the account key: %q", msg)
	}
}

func TestListAzureWrongKey(t *testing.T) {
	a := startAzurite(t)
	seedContainer(t, a, "data", map[string]int{"a": 1})
	wrongKey := "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXkgd3Jvbmcga2V5IHdyb25nIGtleQ=="
	f := openFile(t)
	opts := objects.DefaultOptions()
	opts.Getenv = env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnString(wrongKey)})
	_, err := objects.Load(context.Background(), f, objects.Source{Kind: objects.KindList, Location: "az://data"}, opts)
	if err == nil {
		t.Fatal("listing with a wrong key succeeded")
	}
	msg := err.Error()
	for _, want := range []string{`"data"`, "authentication", "HTTP 403"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, wrongKey) || strings.Contains(msg, azuriteKey) || strings.Contains(msg, "\n") {
		t.Errorf("error carries a key or the service's multi-line dump: %q", msg)
	}
}

// TestListAzureSharedKeyAndSAS covers the two credential sources besides the
// connection string, with Endpoint standing in for the account's URL.
func TestListAzureSharedKeyAndSAS(t *testing.T) {
	ctx := context.Background()
	a := startAzurite(t)
	seedContainer(t, a, "data", map[string]int{"raw/x": 3, "raw/y": 4, "z": 5})
	want := map[string]int64{"raw/x": 3, "raw/y": 4}

	t.Run("account and key", func(t *testing.T) {
		f := openFile(t)
		src := objects.Source{Kind: objects.KindList, Location: "az://data/raw/", Endpoint: a.Endpoint}
		opts := objects.DefaultOptions()
		opts.Getenv = env(map[string]string{"AZURE_STORAGE_ACCOUNT": azuriteAccount, "AZURE_STORAGE_KEY": azuriteKey})
		if _, err := objects.Load(ctx, f, src, opts); err != nil {
			t.Fatal(err)
		}
		if got := keySizes(t, f, src.ID()); !sameSizes(got, want) {
			t.Fatalf("objects = %v, want %v", got, want)
		}
	})

	cred, err := azblob.NewSharedKeyCredential(azuriteAccount, azuriteKey)
	if err != nil {
		t.Fatal(err)
	}
	containerSAS := func(perms sas.ContainerPermissions) string {
		qp, err := sas.BlobSignatureValues{
			Protocol:      sas.ProtocolHTTPSandHTTP,
			ExpiryTime:    time.Now().Add(time.Hour).UTC(),
			Permissions:   perms.String(),
			ContainerName: "data",
		}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		return qp.Encode()
	}

	t.Run("SAS", func(t *testing.T) {
		f := openFile(t)
		src := objects.Source{
			Kind:     objects.KindList,
			Location: "https://" + azuriteAccount + ".blob.core.windows.net/data/raw/?" + containerSAS(sas.ContainerPermissions{List: true, Read: true}),
			Endpoint: a.Endpoint,
		}
		opts := objects.DefaultOptions()
		opts.Getenv = env(nil)
		sum, err := objects.Load(ctx, f, src, opts)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(sum.Source, "sig=") {
			t.Errorf("source %q carries the SAS", sum.Source)
		}
		if got := keySizes(t, f, src.ID()); !sameSizes(got, want) {
			t.Fatalf("objects = %v, want %v", got, want)
		}
	})

	t.Run("SAS without list", func(t *testing.T) {
		token := containerSAS(sas.ContainerPermissions{Read: true})
		src := objects.Source{
			Kind:     objects.KindList,
			Location: "https://" + azuriteAccount + ".blob.core.windows.net/data/raw/?" + token,
			Endpoint: a.Endpoint,
		}
		opts := objects.DefaultOptions()
		opts.Getenv = env(nil)
		_, err := objects.Load(ctx, openFile(t), src, opts)
		if err == nil {
			t.Fatal("listing with a read-only SAS succeeded")
		}
		msg := err.Error()
		if !strings.Contains(msg, "Storage Blob Data Reader") || !strings.Contains(msg, `"data"`) {
			t.Errorf("error %q does not name the container and the role", msg)
		}
		if strings.Contains(msg, "sig=") || strings.Contains(msg, token) {
			t.Errorf("error carries the SAS: %q", msg)
		}
	})
}

func TestListAzureNoCredentials(t *testing.T) {
	opts := objects.DefaultOptions()
	opts.Getenv = env(nil)
	_, err := objects.Load(context.Background(), openFile(t),
		objects.Source{Kind: objects.KindList, Location: "az://data/raw/"}, opts)
	if err == nil {
		t.Fatal("listing without credentials succeeded")
	}
	for _, want := range []string{"AZURE_STORAGE_CONNECTION_STRING", "SAS", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func sameSizes(got, want map[string]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, n := range want {
		if m, ok := got[k]; !ok || m != n {
			return false
		}
	}
	return true
}
