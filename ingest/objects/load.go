package objects

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	isql "github.com/matlens/matlens/sql"
	"github.com/matlens/matlens/sql/duckfile"
)

var (
	insertArrowSQL  = isql.MustRead(isql.DuckDB, "duckdb/objects_insert_arrow.sql")
	insertSelectSQL = isql.MustRead(isql.DuckDB, "duckdb/objects_insert_select.sql")
	replaceBeginSQL = isql.MustRead(isql.DuckDB, "duckdb/objects_replace_begin.sql")
	recordSourceSQL = isql.MustRead(isql.DuckDB, "duckdb/objects_record_source.sql")
)

// Object is one object, version or delete marker as a source reports it.
type Object struct {
	// Bucket is the bucket (S3, GCS) or container (Azure); "" for local
	// files.
	Bucket string
	// Key is the object's name within the bucket, decoded (S3 Inventory
	// URL-encodes CSV keys); a local file's absolute path.
	Key string
	// Version is the version id (S3), generation (GCS) or version id
	// (Azure); "" where the source has no versions.
	Version string
	// Size is in bytes; 0 for delete markers.
	Size int64
	// StorageClass is the provider's class as reported (STANDARD_IA,
	// NEARLINE, Cool, ...); "" when the source does not say.
	StorageClass string
	// AccessTier is S3 Intelligent-Tiering's access tier (FREQUENT,
	// INFREQUENT, ARCHIVE_INSTANT_ACCESS, ...); "" otherwise.
	AccessTier     string
	LastModified   time.Time
	IsLatest       bool
	IsDeleteMarker bool
}

// Options tune a load. Start from DefaultOptions.
type Options struct {
	// BatchObjects bounds the objects held in memory before they are
	// written to DuckDB.
	BatchObjects int
	// Logger receives progress lines; nil discards them.
	Logger *slog.Logger
	// Progress, when set, is called after every batch with the objects
	// read so far (the CLI draws a bar on a terminal).
	Progress func(objects int64)
	// Getenv reads credentials and settings from the environment
	// (AZURE_STORAGE_CONNECTION_STRING, AWS_*, ...); nil means os.Getenv.
	Getenv func(string) string
	// Now stamps listings and directory walks; nil means time.Now.
	Now func() time.Time
}

// DefaultOptions returns the options the CLI uses.
func DefaultOptions() Options {
	return Options{BatchObjects: 16384}
}

func (o Options) withDefaults() Options {
	if o.BatchObjects <= 0 {
		o.BatchObjects = DefaultOptions().BatchObjects
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Summary describes one loaded snapshot.
type Summary struct {
	Source     string
	Kind       Kind
	Provider   string
	SnapshotAt time.Time
	// Objects counts every row: current objects, noncurrent versions and
	// delete markers; Bytes sums their sizes (noncurrent versions are
	// billed too).
	Objects, Bytes int64
	Noncurrent     int64
	DeleteMarkers  int64
	// Files is the number of inventory data files read (0 for listings).
	Files int
}

// Load reads src and replaces its snapshot in storage_objects in one
// transaction: on any error the previous snapshot stays as it was. The
// file must be open read-write with the fact schema applied
// (ingest.NewStore).
func Load(ctx context.Context, f *duckfile.File, src Source, opts Options) (Summary, error) {
	opts = opts.withDefaults()
	if err := src.Validate(); err != nil {
		return Summary{}, fmt.Errorf("objects: %w", err)
	}
	sum, err := load(ctx, f, src, opts)
	if err != nil {
		return Summary{}, fmt.Errorf("objects: %s: %w", src.ID(), err)
	}
	return sum, nil
}

func load(ctx context.Context, f *duckfile.File, src Source, opts Options) (Summary, error) {
	conn := f.Conn()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Summary{}, err
	}
	s := &Snapshot{
		ctx: ctx, conn: conn, tx: tx, opts: opts,
		source: src.ID(), provider: src.Provider(), at: opts.Now().UTC(),
	}
	defer s.release()
	if _, err := tx.ExecContext(ctx, replaceBeginSQL, s.source); err != nil {
		return Summary{}, errors.Join(err, duckfile.Rollback(tx))
	}
	if err := read(ctx, src, s); err != nil {
		return Summary{}, errors.Join(err, duckfile.Rollback(tx))
	}
	if err := s.flush(); err != nil {
		return Summary{}, errors.Join(err, duckfile.Rollback(tx))
	}
	sum := Summary{Source: s.source, Kind: src.Kind, Provider: s.provider, SnapshotAt: s.at, Files: s.files}
	err = tx.QueryRowContext(ctx, recordSourceSQL, s.source, string(src.Kind), s.provider, s.at, s.files).
		Scan(&sum.Objects, &sum.Bytes, &sum.Noncurrent, &sum.DeleteMarkers)
	if err != nil {
		return Summary{}, errors.Join(fmt.Errorf("record snapshot: %w", err), duckfile.Rollback(tx))
	}
	if err := tx.Commit(); err != nil {
		return Summary{}, fmt.Errorf("commit: %w", err)
	}
	return sum, nil
}

// read dispatches to the reader of the source's kind.
func read(ctx context.Context, src Source, s *Snapshot) error {
	switch src.Kind {
	case KindPath:
		return walkLocal(ctx, localRoot(src.Location), s)
	case KindS3Inventory, KindGCSInventory, KindAzureInventory:
		loc, cleanup, err := localInventory(ctx, src, s)
		if err != nil {
			return err
		}
		defer cleanup()
		switch src.Kind {
		case KindS3Inventory:
			return readS3Inventory(ctx, loc, s)
		case KindGCSInventory:
			return readGCSInventory(ctx, loc, s)
		default:
			return readAzureInventory(ctx, loc, s)
		}
	case KindList:
		provider, bucket, prefix, _ := src.listTarget()
		switch provider {
		case ProviderAWS:
			return listS3(ctx, src, bucket, prefix, s)
		case ProviderGCP:
			return listGCS(ctx, src, bucket, prefix, s)
		case ProviderAzure:
			return listAzure(ctx, src, bucket, prefix, s)
		}
	}
	return fmt.Errorf("unknown object source kind %q", src.Kind)
}

// Snapshot is one source's snapshot being written, inside the transaction
// that replaces the previous one. Readers hand it objects (Add) or, for
// files DuckDB reads itself, a SELECT (InsertSelect).
type Snapshot struct {
	ctx      context.Context
	conn     *sql.Conn
	tx       *sql.Tx
	opts     Options
	source   string
	provider string
	at       time.Time
	files    int
	read     int64

	mem memory.Allocator
	bld *array.RecordBuilder
	n   int
}

// SetSnapshotAt sets when the snapshot was taken (an inventory's creation
// time); listings keep the time the load started.
func (s *Snapshot) SetSnapshotAt(t time.Time) {
	if !t.IsZero() {
		s.at = t.UTC()
	}
}

// Env reads an environment variable through Options.Getenv.
func (s *Snapshot) Env(name string) string { return s.opts.Getenv(name) }

// Logger is the load's logger.
func (s *Snapshot) Logger() *slog.Logger { return s.opts.Logger }

// batchSchema is the Arrow shape objects are written in; its column names
// are the ones objects_insert_arrow.sql selects.
var batchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "bucket", Type: arrow.BinaryTypes.String},
	{Name: "key", Type: arrow.BinaryTypes.String},
	{Name: "version", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "size_bytes", Type: arrow.PrimitiveTypes.Int64},
	{Name: "storage_class", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "access_tier", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "last_modified", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "is_latest", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "is_delete_marker", Type: arrow.FixedWidthTypes.Boolean},
}, nil)

// Add queues one object; a full batch is written before Add returns.
// Cancellation is checked between batches.
func (s *Snapshot) Add(o Object) error {
	if s.bld == nil {
		if s.mem == nil {
			s.mem = memory.NewGoAllocator()
		}
		s.bld = array.NewRecordBuilder(s.mem, batchSchema)
	}
	b := s.bld
	b.Field(0).(*array.StringBuilder).Append(o.Bucket)
	b.Field(1).(*array.StringBuilder).Append(o.Key)
	appendOptional(b.Field(2).(*array.StringBuilder), o.Version)
	b.Field(3).(*array.Int64Builder).Append(o.Size)
	appendOptional(b.Field(4).(*array.StringBuilder), o.StorageClass)
	appendOptional(b.Field(5).(*array.StringBuilder), o.AccessTier)
	if o.LastModified.IsZero() {
		b.Field(6).AppendNull()
	} else {
		b.Field(6).(*array.TimestampBuilder).Append(arrow.Timestamp(o.LastModified.UnixMicro()))
	}
	b.Field(7).(*array.BooleanBuilder).Append(o.IsLatest)
	b.Field(8).(*array.BooleanBuilder).Append(o.IsDeleteMarker)
	s.n++
	if s.n >= s.opts.BatchObjects {
		return s.flush()
	}
	return nil
}

func appendOptional(b *array.StringBuilder, v string) {
	if v == "" {
		b.AppendNull()
		return
	}
	b.Append(v)
}

// flush writes the queued objects.
func (s *Snapshot) flush() error {
	if s.n == 0 {
		return s.ctx.Err()
	}
	rec := s.bld.NewRecord()
	defer rec.Release()
	n := s.n
	s.n = 0
	view, err := duckfile.RegisterRecord(s.conn, rec, "matlens_objects_batch")
	if err != nil {
		return err
	}
	_, err = s.tx.ExecContext(s.ctx, insertArrowSQL, s.source, s.provider, s.at)
	if derr := view.Drop(s.ctx, s.tx); err == nil {
		err = derr
	}
	if err != nil {
		return fmt.Errorf("write objects: %w", err)
	}
	s.progress(int64(n))
	return s.ctx.Err()
}

func (s *Snapshot) progress(n int64) {
	s.read += n
	if s.opts.Progress != nil {
		s.opts.Progress(s.read)
	}
}

// InsertSelect writes the rows of a SELECT that yields the columns of
// batchSchema, by name (bucket, key, version, size_bytes, storage_class,
// access_tier, last_modified, is_latest, is_delete_marker): the path for
// inventory files DuckDB reads itself. It returns the rows written.
func (s *Snapshot) InsertSelect(query string, args ...any) (int64, error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	stmt := strings.Replace(insertSelectSQL, "{{select}}", query, 1)
	res, err := s.tx.ExecContext(s.ctx, stmt, append([]any{s.source, s.provider, s.at}, args...)...)
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	s.progress(n)
	return n, nil
}

// AddFiles counts inventory data files read, for the summary.
func (s *Snapshot) AddFiles(n int) { s.files += n }

func (s *Snapshot) release() {
	if s.bld != nil {
		s.bld.Release()
		s.bld = nil
	}
}
