package objects

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// fetchAzureInventory copies a Blob Inventory rule run from its
// destination container into c. The location is
// az://container/…/<rule>-manifest.json (or the https:// URL of it), or a
// prefix, whose newest run's manifest is fetched; the credentials are
// listAzure's.
func fetchAzureInventory(ctx context.Context, src Source, c *reportCopy) (string, error) {
	_, containerName, key, err := splitBucketURL(string(src.Kind), src.Location)
	if err != nil {
		return "", err
	}
	client, svc, secrets, err := newAzureClient(src, c.s.Env)
	if err != nil {
		return "", err
	}
	b := azureContainer{client: client, svc: svc, container: containerName, secrets: secrets}
	if !strings.HasSuffix(key, "manifest.json") {
		names, err := b.list(ctx, key)
		if err != nil {
			return "", err
		}
		newest := newestKey(names, "-manifest.json")
		if newest == "" {
			return "", fmt.Errorf("%s: no <rule>-manifest.json under this prefix; give the manifest's URL or a prefix of the runs (YYYY/MM/DD/HH-MM-SS/<rule>/)", b.url(key))
		}
		key = newest
	}
	// files[].blob is relative to the destination container.
	return key, c.fetchReport(ctx, b, key, azureChecksumName(key), func(body []byte) ([]string, error) {
		m, err := parseAzureManifest(body)
		return m.blobs(), err
	})
}

// azureContainer reads an inventory's destination container.
type azureContainer struct {
	client    *azblob.Client
	svc       string
	container string
	secrets   []string
}

func (b azureContainer) url(blob string) string {
	return strings.TrimSuffix(b.svc, "/") + "/" + b.container + "/" + blob
}

func (b azureContainer) open(ctx context.Context, blob string) (io.ReadCloser, error) {
	resp, err := b.client.DownloadStream(ctx, b.container, blob, nil)
	if err != nil {
		return nil, azureError(err, b.svc, b.container, blob, b.secrets)
	}
	return resp.Body, nil
}

// list returns the names of the blobs under prefix.
func (b azureContainer) list(ctx context.Context, prefix string) ([]string, error) {
	opts := &azblob.ListBlobsFlatOptions{}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	var names []string
	err := eachAzureBlob(ctx, b.client, b.svc, b.container, opts, b.secrets, func(it *container.BlobItem) error {
		names = append(names, *it.Name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}
