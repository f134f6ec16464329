package objects_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"

	"github.com/matlens/matlens/fixtures"
	"github.com/matlens/matlens/ingest/objects"
	"github.com/matlens/matlens/sql/duckfile"
)

// reportFiles returns every file under root by its slash-separated path
// relative to root: a report as its bucket or container holds it.
func reportFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = body
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// twoReports writes an older report of fewer objects and a newer one of
// all of them under root, as a daily configuration leaves them, and
// returns the newer one's manifest: a prefix must load that one.
func twoReports(t *testing.T, root string, format fixtures.InventoryFormat,
	write func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error),
) (manifest string, objs []fixtures.Object) {
	t.Helper()
	objs = sampleObjects("acme-data")
	older := fixtures.InventoryOptions{Format: format, Versions: true, At: inventoryAt.Add(-24 * time.Hour), RowsPerFile: 2}
	if _, err := write(root, older, objs[:2]); err != nil {
		t.Fatal(err)
	}
	newer := fixtures.InventoryOptions{Format: format, Versions: true, At: inventoryAt, RowsPerFile: 2}
	manifest, err := write(root, newer, objs)
	if err != nil {
		t.Fatal(err)
	}
	return manifest, objs
}

// localReport writes twoReports under root and loads the newer one from
// the local copy: what a load from the bucket must give exactly.
func localReport(t *testing.T, root string, kind objects.Kind, provider string, format fixtures.InventoryFormat,
	write func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error),
) (manifest string, rows []objectRow, sum objects.Summary) {
	t.Helper()
	manifest, objs := twoReports(t, root, format, write)
	rows, sum, _ = loadRows(t, objects.Source{Kind: kind, Location: manifest}, objects.DefaultOptions())
	if n := len(want(objs, provider)); len(rows) != n {
		t.Fatalf("local load: %d rows, want %d", len(rows), n)
	}
	return manifest, rows, sum
}

// loadRows loads src into a new file and returns its rows and summary.
func loadRows(t *testing.T, src objects.Source, opts objects.Options) ([]objectRow, objects.Summary, *duckfile.File) {
	t.Helper()
	f := openFile(t)
	sum, err := objects.Load(context.Background(), f, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	return objectRows(t, f, src.ID()), sum, f
}

// sameLoad checks that a remote load gave exactly the local load's rows
// and snapshot.
func sameLoad(t *testing.T, got []objectRow, gotSum objects.Summary, want []objectRow, wantSum objects.Summary) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("rows from the bucket differ from the local copy's:\n got %+v\nwant %+v", got, want)
	}
	if !gotSum.SnapshotAt.Equal(wantSum.SnapshotAt) || gotSum.Objects != wantSum.Objects || gotSum.Files != wantSum.Files || gotSum.Bytes != wantSum.Bytes {
		t.Errorf("summary %+v, want the local copy's %+v", gotSum, wantSum)
	}
}

func TestGCSInventoryFromBucketLoadsAsItsLocalCopy(t *testing.T) {
	for _, format := range []fixtures.InventoryFormat{fixtures.FormatCSV, fixtures.FormatParquet} {
		t.Run(string(format), func(t *testing.T) {
			root := t.TempDir()
			manifest, wantRows, wantSum := localReport(t, root, objects.KindGCSInventory, "gcp", format,
				func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error) {
					return fixtures.WriteGCSInventory(root, o, slices.Values(objs))
				})

			g := newFakeGCS(t)
			g.srv.CreateBucket("insights")
			for rel, body := range reportFiles(t, root) {
				g.srv.CreateObject(fakestorage.Object{
					ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "insights", Name: "reports/daily/" + rel},
					Content:     body,
				})
			}
			name := filepath.Base(manifest)
			for _, loc := range []string{
				"gs://insights/reports/daily/" + name, // the manifest
				"gs://insights/reports/daily/",        // the newest report under a prefix
				"gs://insights/reports/",
			} {
				t.Run(loc, func(t *testing.T) {
					src := objects.Source{Kind: objects.KindGCSInventory, Location: loc, Endpoint: g.endpoint}
					got, sum, _ := loadRows(t, src, objects.DefaultOptions())
					sameLoad(t, got, sum, wantRows, wantSum)
					if sum.Provider != objects.ProviderGCP {
						t.Errorf("provider %s, want gcp", sum.Provider)
					}
				})
			}

			t.Run("one shard", func(t *testing.T) {
				shard := strings.TrimSuffix(name, "manifest.json") + "0." + strings.ToLower(string(format))
				wantRows, wantSum, _ := loadRows(t, objects.Source{Kind: objects.KindGCSInventory, Location: filepath.Join(root, shard)}, objects.DefaultOptions())
				src := objects.Source{Kind: objects.KindGCSInventory, Location: "gs://insights/reports/daily/" + shard, Endpoint: g.endpoint}
				got, sum, _ := loadRows(t, src, objects.DefaultOptions())
				if len(got) == 0 {
					t.Fatal("no rows from one shard")
				}
				sameLoad(t, got, sum, wantRows, wantSum)
			})
		})
	}
}

func TestGCSInventoryFromBucketFailuresKeepThePreviousSnapshot(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	manifest, err := fixtures.WriteGCSInventory(root, fixtures.InventoryOptions{Versions: true, At: inventoryAt, RowsPerFile: 2}, slices.Values(sampleObjects("acme-data")))
	if err != nil {
		t.Fatal(err)
	}
	g := newFakeGCS(t)
	g.srv.CreateBucket("insights")
	for rel, body := range reportFiles(t, root) {
		g.srv.CreateObject(fakestorage.Object{ObjectAttrs: fakestorage.ObjectAttrs{BucketName: "insights", Name: rel}, Content: body})
	}
	f := openFile(t)
	src := objects.Source{Kind: objects.KindGCSInventory, Location: "gs://insights/" + filepath.Base(manifest), Endpoint: g.endpoint}
	if _, err := objects.Load(ctx, f, src, objects.DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	before := len(objectRows(t, f, src.ID()))

	t.Run("access denied", func(t *testing.T) {
		shard := strings.TrimSuffix(filepath.Base(manifest), "manifest.json") + "1.csv"
		g.denyRead.Store(shard)
		defer g.denyRead.Store("")
		loadFails(t, f, src, before, "gs://insights/"+shard, "access denied", "storage.objects.get", "bucket insights")
	})
	t.Run("missing manifest", func(t *testing.T) {
		missing := src
		missing.Location = "gs://insights/nope_2026-11-02T03:00_manifest.json"
		if _, err := objects.Load(ctx, f, missing, objects.DefaultOptions()); err == nil {
			t.Fatal("load of a missing manifest succeeded")
		} else if !strings.Contains(err.Error(), "gs://insights/nope_2026-11-02T03:00_manifest.json: no such object") || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %q: want it to name the object as missing and match fs.ErrNotExist", err)
		}
	})
	t.Run("missing shard", func(t *testing.T) {
		client, err := storage.NewClient(ctx, option.WithEndpoint(g.endpoint), option.WithoutAuthentication())
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		shard := strings.TrimSuffix(filepath.Base(manifest), "manifest.json") + "0.csv"
		if err := client.Bucket("insights").Object(shard).Delete(ctx); err != nil {
			t.Fatal(err)
		}
		err = loadFailsWith(t, f, src, objects.DefaultOptions(), before, "gs://insights/"+shard, "no such object")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %q does not match fs.ErrNotExist", err)
		}
	})
	t.Run("nothing under the prefix", func(t *testing.T) {
		empty := src
		empty.Location = "gs://insights/elsewhere/"
		_, err := objects.Load(ctx, openFile(t), empty, objects.DefaultOptions())
		if err == nil || !strings.Contains(err.Error(), "gs://insights/elsewhere/: no *_manifest.json") {
			t.Errorf("error %v, want it to say nothing is under the prefix", err)
		}
	})
}

// uploadReport puts every file of a report under root into an Azurite
// container at its relative path.
func uploadReport(t *testing.T, a azurite, containerName, root string) *azblob.Client {
	t.Helper()
	ctx := context.Background()
	client := seedContainer(t, a, containerName, nil)
	for rel, body := range reportFiles(t, root) {
		if _, err := client.UploadBuffer(ctx, containerName, rel, body, nil); err != nil {
			t.Fatal(err)
		}
	}
	return client
}

func TestAzureInventoryFromContainerLoadsAsItsLocalCopy(t *testing.T) {
	a := startAzurite(t)
	for _, format := range []fixtures.InventoryFormat{fixtures.FormatCSV, fixtures.FormatParquet} {
		t.Run(string(format), func(t *testing.T) {
			root := t.TempDir()
			manifest, wantRows, wantSum := localReport(t, root, objects.KindAzureInventory, "azure", format,
				func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error) {
					return fixtures.WriteAzureInventory(root, o, slices.Values(objs))
				})
			containerName := "inventory-" + strings.ToLower(string(format))
			uploadReport(t, a, containerName, root)
			rel, err := filepath.Rel(root, manifest)
			if err != nil {
				t.Fatal(err)
			}
			connString := env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnString(azuriteKey)})
			sharedKey := env(map[string]string{"AZURE_STORAGE_ACCOUNT": azuriteAccount, "AZURE_STORAGE_KEY": azuriteKey})
			for _, c := range []struct {
				loc, endpoint string
				getenv        func(string) string
			}{
				{"az://" + containerName + "/" + filepath.ToSlash(rel), "", connString}, // the manifest
				{"az://" + containerName, "", connString},                               // the newest run in the container
				{"https://" + azuriteAccount + ".blob.core.windows.net/" + containerName + "/2026/11/", a.Endpoint, sharedKey},
			} {
				t.Run(c.loc, func(t *testing.T) {
					src := objects.Source{Kind: objects.KindAzureInventory, Location: c.loc, Endpoint: c.endpoint}
					opts := objects.DefaultOptions()
					opts.Getenv = c.getenv
					got, sum, _ := loadRows(t, src, opts)
					sameLoad(t, got, sum, wantRows, wantSum)
					if sum.Provider != objects.ProviderAzure {
						t.Errorf("provider %s, want azure", sum.Provider)
					}
				})
			}
		})
	}
}

func TestAzureInventoryFromContainerFailuresKeepThePreviousSnapshot(t *testing.T) {
	ctx := context.Background()
	a := startAzurite(t)
	root := t.TempDir()
	manifest, err := fixtures.WriteAzureInventory(root, fixtures.InventoryOptions{Versions: true, At: inventoryAt, RowsPerFile: 2}, slices.Values(sampleObjects("acme-data")))
	if err != nil {
		t.Fatal(err)
	}
	client := uploadReport(t, a, "inventory", root)
	rel, _ := filepath.Rel(root, manifest)
	opts := objects.DefaultOptions()
	opts.Getenv = env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnString(azuriteKey)})
	f := openFile(t)
	src := objects.Source{Kind: objects.KindAzureInventory, Location: "az://inventory/" + filepath.ToSlash(rel)}
	if _, err := objects.Load(ctx, f, src, opts); err != nil {
		t.Fatal(err)
	}
	before := len(objectRows(t, f, src.ID()))

	t.Run("missing data file", func(t *testing.T) {
		blob := filepath.ToSlash(filepath.Join(filepath.Dir(rel), "daily_1000000_0.csv"))
		if _, err := client.DeleteBlob(ctx, "inventory", blob, nil); err != nil {
			t.Fatal(err)
		}
		err := loadFailsWith(t, f, src, opts, before, `blob "`+blob+`"`, `container "inventory"`, "not found", "BlobNotFound")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %q does not match fs.ErrNotExist", err)
		}
	})
	t.Run("missing container", func(t *testing.T) {
		gone := objects.Source{Kind: objects.KindAzureInventory, Location: "az://no-such-container/x/daily-manifest.json"}
		_, err := objects.Load(ctx, openFile(t), gone, opts)
		if err == nil || !strings.Contains(err.Error(), `container "no-such-container"`) || !strings.Contains(err.Error(), "not found") {
			t.Errorf("error %v, want it to name the missing container", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		wrongKey := "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXkgd3Jvbmcga2V5IHdyb25nIGtleQ=="
		bad := opts
		bad.Getenv = env(map[string]string{"AZURE_STORAGE_CONNECTION_STRING": a.ConnString(wrongKey)})
		err := loadFailsWith(t, f, src, bad, before, `container "inventory"`, "HTTP 403", "daily-manifest.json")
		if strings.Contains(err.Error(), wrongKey) {
			t.Errorf("error carries the key: %q", err)
		}
	})
}

func TestS3InventoryFromBucketLoadsAsItsLocalCopy(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	manifest, wantRows, wantSum := localReport(t, root, objects.KindS3Inventory, "aws", fixtures.FormatCSV,
		func(root string, o fixtures.InventoryOptions, objs []fixtures.Object) (string, error) {
			return fixtures.WriteS3Inventory(root, "acme-data", o, slices.Values(objs))
		})
	s := newFakeS3(t)
	if err := s.backend.CreateBucket("inv"); err != nil {
		t.Fatal(err)
	}
	for rel, body := range reportFiles(t, root) {
		if _, err := s.backend.PutObject("inv", rel, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
			t.Fatal(err)
		}
	}
	rel, _ := filepath.Rel(root, manifest)
	source := func(loc string) objects.Source {
		return objects.Source{Kind: objects.KindS3Inventory, Location: loc, Endpoint: s.url, PathStyle: true}
	}
	for _, loc := range []string{"s3://inv/" + filepath.ToSlash(rel), "s3://inv/acme-data/daily/"} {
		t.Run(loc, func(t *testing.T) {
			got, sum, _ := loadRows(t, source(loc), objects.DefaultOptions())
			sameLoad(t, got, sum, wantRows, wantSum)
		})
	}

	t.Run("missing data file", func(t *testing.T) {
		src := source("s3://inv/" + filepath.ToSlash(rel))
		_, _, f := loadRows(t, src, objects.DefaultOptions())
		body, err := os.ReadFile(manifest)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Files []struct{ Key string } `json:"files"`
		}
		if err := json.Unmarshal(body, &m); err != nil || len(m.Files) == 0 {
			t.Fatalf("manifest %s: %v, %d files", manifest, err, len(m.Files))
		}
		key := m.Files[0].Key
		if _, err := s.client(t).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("inv"), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		err = loadFailsWith(t, f, src, objects.DefaultOptions(), len(wantRows), "s3://inv/"+key, "no such object")
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %q does not match fs.ErrNotExist", err)
		}
	})
}
