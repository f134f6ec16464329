package objects

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Kind is how a source is read.
type Kind string

const (
	// KindS3Inventory reads an S3 Inventory manifest.json (a local copy laid
	// out as the destination bucket, or an s3:// URL).
	KindS3Inventory Kind = "s3-inventory"
	// KindGCSInventory reads a GCS Storage Insights inventory report: its
	// manifest, or one shard file or a directory of shards (local, or a
	// gs:// URL of either).
	KindGCSInventory Kind = "gcs-inventory"
	// KindAzureInventory reads an Azure Blob Inventory manifest or the
	// newest run under a directory (local, or an az:// or
	// https://account.blob.core.windows.net/ URL of either).
	KindAzureInventory Kind = "azure-inventory"
	// KindList lists a bucket live: s3://bucket/prefix, gs://bucket/prefix,
	// https://account.blob.core.windows.net/container/prefix or
	// az://container/prefix.
	KindList Kind = "list"
	// KindPath walks a local directory (a FilesystemIOManager or
	// UPathIOManager base directory), a plain path or a file:// URL.
	KindPath Kind = "path"
)

// Kinds are the source kinds in the order the CLI documents them.
var Kinds = []Kind{KindS3Inventory, KindGCSInventory, KindAzureInventory, KindList, KindPath}

// Provider names the cloud whose prices apply to a source's objects.
const (
	ProviderAWS   = "aws"
	ProviderGCP   = "gcp"
	ProviderAzure = "azure"
	ProviderLocal = "local"
)

// Source is one object source as configured.
type Source struct {
	Kind     Kind
	Location string
	// Endpoint overrides the S3 endpoint (MinIO and other S3-compatible
	// stores) or the GCS / Azure service URL; "" uses the provider's.
	Endpoint string
	// Region is the S3 region; "" takes it from the standard AWS chain.
	Region string
	// Versions lists every version and delete marker of a live S3 or GCS
	// bucket (S3 ListObjectVersions needs s3:ListBucketVersions), or every
	// blob version of an Azure container, instead of the current objects
	// only.
	Versions bool
	// PathStyle addresses S3 buckets in the path (http://host/bucket/key),
	// which most S3-compatible servers need; set when Endpoint is.
	PathStyle bool
}

// ParseKind accepts a kind by its name ("s3-inventory", ...), with
// underscores as the config file spells them.
func ParseKind(s string) (Kind, error) {
	k := Kind(strings.ReplaceAll(s, "_", "-"))
	for _, known := range Kinds {
		if k == known {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown object source kind %q (want one of s3-inventory, gcs-inventory, azure-inventory, list, path)", s)
}

// Validate checks that the location fits the kind.
func (s Source) Validate() error {
	if s.Location == "" {
		return fmt.Errorf("%s: no location given", s.Kind)
	}
	switch s.Kind {
	case KindList:
		if _, _, _, err := s.listTarget(); err != nil {
			return err
		}
	case KindPath:
		if u, err := url.Parse(s.Location); err == nil && u.Scheme != "" && u.Scheme != "file" && len(u.Scheme) > 1 {
			return fmt.Errorf("path %s: not a local path or file:// URL (use list for %s:// URLs)", s.Location, u.Scheme)
		}
	case KindS3Inventory, KindGCSInventory, KindAzureInventory:
		if s.remote() {
			provider, _, _, err := splitBucketURL(string(s.Kind), s.Location)
			if err != nil {
				return err
			}
			if provider != s.Provider() {
				return fmt.Errorf("%s %s: not a URL of the %s store", s.Kind, s.Location, s.Provider())
			}
		}
	default:
		return fmt.Errorf("unknown object source kind %q", s.Kind)
	}
	return nil
}

// Provider is the cloud the source's objects are billed by.
func (s Source) Provider() string {
	switch s.Kind {
	case KindS3Inventory:
		return ProviderAWS
	case KindGCSInventory:
		return ProviderGCP
	case KindAzureInventory:
		return ProviderAzure
	case KindList:
		p, _, _, _ := s.listTarget()
		return p
	}
	return ProviderLocal
}

// ID identifies the source in storage_objects.source: its kind and its
// location with any user information and query (SAS tokens, keys) removed,
// so a credential never reaches the file or a log. Local paths are made
// absolute, so the same directory named two ways is one source.
func (s Source) ID() string {
	loc := s.Location
	switch s.Kind {
	case KindPath:
		loc = localRoot(loc)
	default:
		if u, err := url.Parse(loc); err == nil && u.Scheme != "" && len(u.Scheme) > 1 {
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			loc = u.String()
		} else if abs, err := filepath.Abs(loc); err == nil {
			loc = abs
		}
	}
	return string(s.Kind) + ":" + loc
}

// listTarget splits a listing URL into provider, bucket (or container) and
// prefix.
func (s Source) listTarget() (provider, bucket, prefix string, err error) {
	return splitBucketURL("list", s.Location)
}

// splitBucketURL splits an object store URL into provider, bucket (or
// container) and the key or prefix after it; op starts its errors. Azure
// URLs name the account in the host
// (https://acct.blob.core.windows.net/container/prefix) or leave it to the
// connection string (az://container/prefix).
func splitBucketURL(op, loc string) (provider, bucket, prefix string, err error) {
	u, err := url.Parse(loc)
	if err != nil {
		return "", "", "", fmt.Errorf("%s %s: %w", op, loc, err)
	}
	rest := strings.TrimPrefix(u.Path, "/")
	switch u.Scheme {
	case "s3":
		return ProviderAWS, u.Host, rest, nonEmptyBucket(op, loc, u.Host)
	case "gs":
		return ProviderGCP, u.Host, rest, nonEmptyBucket(op, loc, u.Host)
	case "az", "abfs", "abfss":
		container := u.Host
		if u.User != nil && u.User.Username() != "" { // abfs://container@account.dfs.core.windows.net/path
			container = u.User.Username()
		}
		return ProviderAzure, container, rest, nonEmptyBucket(op, loc, container)
	case "https", "http":
		container, p, _ := strings.Cut(rest, "/")
		return ProviderAzure, container, p, nonEmptyBucket(op, loc, container)
	}
	return "", "", "", fmt.Errorf("%s %s: want s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or https://account.blob.core.windows.net/container/prefix", op, loc)
}

func nonEmptyBucket(op, loc, bucket string) error {
	if bucket == "" {
		return fmt.Errorf("%s %s: no bucket or container in the URL", op, loc)
	}
	return nil
}

// remote reports whether an inventory's location is a URL of its
// provider's store (fetched before it is read) rather than a local copy.
func (s Source) remote() bool {
	u, err := url.Parse(s.Location)
	if err != nil || len(u.Scheme) < 2 { // C:\... is a local path
		return false
	}
	switch s.Kind {
	case KindS3Inventory, KindGCSInventory, KindAzureInventory:
		return u.Scheme != "file"
	}
	return false
}

// localRoot turns a path or file:// URL into a clean absolute path.
func localRoot(loc string) string {
	if strings.HasPrefix(loc, "file://") {
		if u, err := url.Parse(loc); err == nil {
			loc = u.Path
		}
	}
	if abs, err := filepath.Abs(loc); err == nil {
		return abs
	}
	return filepath.Clean(loc)
}
