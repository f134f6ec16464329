package objects

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// listAzurePageSize is the MaxResults of each List Blobs call; 0 leaves it
// to the service (5000, its maximum). Tests lower it to make paging visible.
var listAzurePageSize int32

// azureAuthHelp names the ways listAzure finds credentials, for the error
// when none is there.
const azureAuthHelp = "set AZURE_STORAGE_CONNECTION_STRING, " +
	"or give an https://ACCOUNT.blob.core.windows.net/container/prefix?<SAS> location, " +
	"or set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY"

// listAzure lists a container's blobs under prefix into s: current blobs
// only, or every version when src.Versions is set (which the account must
// have enabled). The credentials come from, in order: the
// AZURE_STORAGE_CONNECTION_STRING environment variable, a SAS in an
// https location, AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY.
// src.Endpoint, when set, replaces the service URL (Azurite, sovereign
// clouds). No key or SAS reaches an error.
func listAzure(ctx context.Context, src Source, containerName, prefix string, s *Snapshot) error {
	client, svc, secrets, err := newAzureClient(src, s.Env)
	if err != nil {
		return err
	}
	s.Logger().Info("listing azure container", "service", svc, "container", containerName, "prefix", prefix, "versions", src.Versions)
	opts := &azblob.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Versions: src.Versions}}
	if prefix != "" {
		opts.Prefix = &prefix
	}
	if listAzurePageSize > 0 {
		opts.MaxResults = &listAzurePageSize
	}
	return eachAzureBlob(ctx, client, svc, containerName, opts, secrets, func(b *container.BlobItem) error {
		return s.Add(azureObject(containerName, b, src.Versions))
	})
}

// eachAzureBlob calls fn on every blob a List Blobs with opts returns,
// page by page.
func eachAzureBlob(ctx context.Context, client *azblob.Client, svc, containerName string, opts *azblob.ListBlobsFlatOptions,
	secrets []string, fn func(*container.BlobItem) error,
) error {
	pager := client.NewListBlobsFlatPager(containerName, opts)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return azureError(err, svc, containerName, "", secrets)
		}
		if page.Segment == nil {
			continue
		}
		for _, b := range page.Segment.BlobItems {
			if b == nil || b.Name == nil {
				continue
			}
			if err := fn(b); err != nil {
				return err
			}
		}
	}
	return nil
}

// azureObject maps one listed blob (or blob version) to an Object.
func azureObject(containerName string, b *container.BlobItem, versions bool) Object {
	o := Object{Bucket: containerName, Key: *b.Name, IsLatest: true}
	if b.VersionID != nil {
		o.Version = *b.VersionID
	}
	if versions && b.IsCurrentVersion != nil {
		o.IsLatest = *b.IsCurrentVersion
	} else if versions && b.VersionID != nil {
		// A version the service did not mark current is an older one.
		o.IsLatest = false
	}
	if p := b.Properties; p != nil {
		if p.ContentLength != nil {
			o.Size = *p.ContentLength
		}
		if p.AccessTier != nil {
			o.StorageClass = string(*p.AccessTier)
		}
		if p.LastModified != nil {
			o.LastModified = *p.LastModified
		}
	}
	return o
}

// newAzureClient builds the blob service client from the first credential
// source that is set. It returns the service URL without any query (for
// messages) and the secret strings errors must not carry.
func newAzureClient(src Source, getenv func(string) string) (client *azblob.Client, svc string, secrets []string, err error) {
	if cs := getenv("AZURE_STORAGE_CONNECTION_STRING"); cs != "" {
		secrets = connStringSecrets(cs)
		if src.Endpoint != "" {
			cs = withBlobEndpoint(cs, src.Endpoint)
		}
		client, err = azblob.NewClientFromConnectionString(cs, nil)
		if err != nil {
			// The parser's messages never quote the string, but be sure.
			return nil, "", nil, redact(fmt.Errorf("azure connection string (AZURE_STORAGE_CONNECTION_STRING): %w", err), secrets)
		}
		return client, redactedURL(client.URL()), secrets, nil
	}

	if u, err := url.Parse(src.Location); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Query().Has("sig") {
		secrets = []string{u.RawQuery, u.Query().Get("sig")}
		base := u.Scheme + "://" + u.Host + "/"
		if src.Endpoint != "" {
			base = strings.TrimSuffix(src.Endpoint, "/") + "/"
		}
		client, err = azblob.NewClientWithNoCredential(base+"?"+u.RawQuery, nil)
		if err != nil {
			return nil, "", nil, redact(fmt.Errorf("azure service URL %s with SAS: %w", redactedURL(base), err), secrets)
		}
		return client, redactedURL(base), secrets, nil
	}

	account, key := getenv("AZURE_STORAGE_ACCOUNT"), getenv("AZURE_STORAGE_KEY")
	if account != "" && key != "" {
		secrets = []string{key}
		cred, err := azblob.NewSharedKeyCredential(account, key)
		if err != nil {
			return nil, "", nil, redact(fmt.Errorf("azure account key (AZURE_STORAGE_KEY) of %s: %w", account, err), secrets)
		}
		base := "https://" + account + ".blob.core.windows.net/"
		if u, err := url.Parse(src.Location); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			base = u.Scheme + "://" + u.Host + "/"
		}
		if src.Endpoint != "" {
			base = strings.TrimSuffix(src.Endpoint, "/") + "/"
		}
		client, err = azblob.NewClientWithSharedKeyCredential(base, cred, nil)
		if err != nil {
			return nil, "", nil, redact(fmt.Errorf("azure service URL %s: %w", redactedURL(base), err), secrets)
		}
		return client, redactedURL(base), secrets, nil
	}
	return nil, "", nil, fmt.Errorf("no azure credentials: %s", azureAuthHelp)
}

// azureError turns a failed List Blobs (blobName "") or Get Blob into a
// message that names the container (and blob) and what to do, without the
// service's multi-line dump. A blob that is not there is a *notFoundError.
func azureError(err error, svc, containerName, blobName string, secrets []string) error {
	op, what, perm := "list", fmt.Sprintf("container %q", containerName), "list (l)"
	if blobName != "" {
		op, what, perm = "read", fmt.Sprintf("blob %q in container %q", blobName, containerName), "read (r)"
	}
	verb := op + "ing"
	if op == "read" {
		verb = "reading"
	}
	switch {
	case blobName != "" && (bloberror.HasCode(err, bloberror.BlobNotFound) || bloberror.HasCode(err, bloberror.ContainerNotFound)):
		return &notFoundError{msg: fmt.Sprintf("azure %s not found at %s (%s)", what, svc, azureErrorCode(err)), err: err}
	case bloberror.HasCode(err, bloberror.ContainerNotFound):
		return fmt.Errorf("azure container %q not found at %s", containerName, svc)
	case bloberror.HasCode(err, bloberror.AuthenticationFailed):
		return fmt.Errorf("azure authentication failed %s %s at %s (%s): "+
			"the account key, SAS or connection string is wrong, expired or for another account",
			verb, what, svc, azureErrorCode(err))
	case bloberror.HasCode(err, bloberror.AuthorizationFailure):
		// Azure sends this when the identity may not list or read;
		// Azurite also for a request signed with the wrong key.
		return fmt.Errorf("azure refused %s %s at %s (%s): "+
			"either authentication failed (a wrong or expired key, SAS or connection string) "+
			"or the caller may not %s: an Entra ID identity needs the Storage Blob Data Reader role "+
			"on the container or account, a SAS the %s permission",
			verb, what, svc, azureErrorCode(err), op, perm)
	case bloberror.HasCode(err, bloberror.AuthorizationPermissionMismatch):
		return fmt.Errorf("azure refused %s %s at %s (%s): the caller may not %s; "+
			"an Entra ID identity needs the Storage Blob Data Reader role on the container or account, "+
			"a SAS the %s permission",
			verb, what, svc, azureErrorCode(err), op, perm)
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("%s azure %s at %s: %s", op, what, svc, azureErrorCode(err))
	}
	return redact(fmt.Errorf("%s azure %s at %s: %w", op, what, svc, err), secrets)
}

// azureErrorCode is "HTTP 403 AuthorizationFailure" for a service error.
func azureErrorCode(err error) string {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return "no response"
	}
	if re.ErrorCode == "" {
		return fmt.Sprintf("HTTP %d", re.StatusCode)
	}
	return fmt.Sprintf("HTTP %d %s", re.StatusCode, re.ErrorCode)
}

// withBlobEndpoint replaces (or adds) a connection string's BlobEndpoint.
func withBlobEndpoint(cs, endpoint string) string {
	var parts []string
	for _, p := range strings.Split(strings.TrimRight(cs, ";"), ";") {
		if k, _, _ := strings.Cut(p, "="); strings.EqualFold(k, "BlobEndpoint") {
			continue
		}
		parts = append(parts, p)
	}
	return strings.Join(append(parts, "BlobEndpoint="+endpoint), ";")
}

// connStringSecrets are the values of a connection string's AccountKey and
// SharedAccessSignature, and the SAS signature alone.
func connStringSecrets(cs string) []string {
	var out []string
	for _, p := range strings.Split(cs, ";") {
		k, v, _ := strings.Cut(p, "=")
		switch {
		case v == "":
		case strings.EqualFold(k, "AccountKey"):
			out = append(out, v)
		case strings.EqualFold(k, "SharedAccessSignature"):
			out = append(out, v)
			if q, err := url.ParseQuery(v); err == nil && q.Get("sig") != "" {
				out = append(out, q.Get("sig"))
			}
		}
	}
	return out
}

// redactedURL drops the query (a SAS) and user information from a URL.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return u.String()
}

// redactedError carries an error whose message had secrets cut out; the
// chain below it stays reachable for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces every secret, raw or URL-escaped, in err's message (a
// transport error quotes the request URL, SAS query included).
func redact(err error, secrets []string) error {
	msg := err.Error()
	changed := false
	for _, sec := range secrets {
		if sec == "" {
			continue
		}
		for _, form := range []string{sec, url.QueryEscape(sec), url.PathEscape(sec)} {
			if strings.Contains(msg, form) {
				msg = strings.ReplaceAll(msg, form, "REDACTED")
				changed = true
			}
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}
