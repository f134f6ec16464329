package ingest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	isql "github.com/matlens/matlens/sql"
)

var extractEventsSQL = isql.MustRead(isql.Postgres, "postgres/extract_events.sql")

// PostgresSource reads Dagster's event_logs table through pgx, always inside
// a READ ONLY transaction: matlens never writes to Dagster's database.
type PostgresSource struct {
	cfg      *pgx.ConnConfig
	name     string
	password string
}

// NewPostgresSource parses dsn (a URL or key=value string; empty means the
// standard PG* environment variables, which pgx reads itself). Errors never
// contain the password.
func NewPostgresSource(dsn string) (*PostgresSource, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can quote the DSN; say only what is wrong.
		return nil, fmt.Errorf("parse postgres DSN %s: %s", RedactDSN(dsn), redactText(err.Error(), passwordOf(dsn)))
	}
	return &PostgresSource{
		cfg:      cfg,
		name:     fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database),
		password: cfg.Password,
	}, nil
}

// Name is the redacted connection identity used as the watermark key.
func (s *PostgresSource) Name() string { return s.name }

// Connect opens a connection; callers close it. The error is redacted.
func (s *PostgresSource) Connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.cfg)
	if err != nil {
		return nil, &SourceError{Op: "connect to " + s.name, Err: s.redact(err)}
	}
	return conn, nil
}

// Read streams the matching rows in id order from one READ ONLY,
// REPEATABLE READ transaction, so a run sees one consistent snapshot.
func (s *PostgresSource) Read(ctx context.Context, q Query, fn func(*Row) error) (err error) {
	conn, err := s.Connect(ctx)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = errors.Join(err, conn.Close(cctx))
	}()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return &SourceError{Op: "begin read-only transaction on " + s.name, Err: s.redact(err)}
	}
	// Read-only: nothing to commit, and rollback can never lose data.
	defer func() { _ = tx.Rollback(context.Background()) }()

	types := q.Types
	query := extractEventsSQL
	if len(types) == 0 {
		query = strings.Replace(query, "AND dagster_event_type = ANY($2)", "AND $2::text[] IS NOT NULL", 1)
		types = []string{}
	}
	// id and timestamp in binary (cheap to decode), the text columns as text.
	formats := pgx.QueryResultFormats{
		pgx.BinaryFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode,
		pgx.BinaryFormatCode, pgx.TextFormatCode, pgx.TextFormatCode, pgx.TextFormatCode,
	}
	rows, err := tx.Query(ctx, query, formats, q.AfterID, types)
	if err != nil {
		return &SourceError{Op: "query event_logs on " + s.name, Err: s.redact(err)}
	}
	defer rows.Close()
	var row Row
	for rows.Next() {
		v := rows.RawValues()
		if len(v) != 8 {
			return fmt.Errorf("query event_logs: got %d columns, want 8", len(v))
		}
		row = Row{Event: v[2], RunID: v[1], StepKey: v[5], AssetKey: v[6], Partition: v[7]}
		row.Nulls = ColumnNulls{RunID: v[1] == nil, StepKey: v[5] == nil, AssetKey: v[6] == nil, Partition: v[7] == nil}
		switch len(v[0]) { // integer on old Dagster databases, bigint on new ones
		case 8:
			row.ID = int64(binary.BigEndian.Uint64(v[0]))
		case 4:
			row.ID = int64(int32(binary.BigEndian.Uint32(v[0])))
		default:
			return fmt.Errorf("query event_logs: id has %d bytes", len(v[0]))
		}
		if v[3] != nil {
			row.Type.String, row.Type.Valid = string(v[3]), true
		}
		if len(v[4]) == 8 {
			if t, ok := pgTimestamp(int64(binary.BigEndian.Uint64(v[4]))); ok {
				row.Timestamp.Time, row.Timestamp.Valid = t, true
			}
		}
		if err := fn(&row); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &SourceError{Op: "read event_logs on " + s.name, Err: s.redact(err)}
	}
	return nil
}

// pgEpoch is PostgreSQL's timestamp origin.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// pgTimestamp converts a binary timestamp (microseconds since 2000-01-01);
// ±infinity is not a time.
func pgTimestamp(us int64) (time.Time, bool) {
	if us == 1<<63-1 || us == -1<<63 {
		return time.Time{}, false
	}
	return pgEpoch.Add(time.Duration(us) * time.Microsecond), true
}

func (s *PostgresSource) redact(err error) error {
	if s.password == "" || err == nil || !strings.Contains(err.Error(), s.password) {
		return err
	}
	return redactedError{msg: redactText(err.Error(), s.password), err: err}
}

// SourceError is a failure to reach or read the source database; the CLI
// maps it to the "source unreachable" exit code.
type SourceError struct {
	Op  string
	Err error
}

func (e *SourceError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

// redactedError hides a password in the message but keeps the chain for
// errors.Is/As (pgconn.PgError codes, context errors).
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// IsPgCode reports whether err carries a PostgreSQL error with this SQLSTATE.
func IsPgCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// RedactDSN returns dsn with its password replaced, for logs and errors.
// It handles URLs and key=value strings.
func RedactDSN(dsn string) string {
	if p := passwordOf(dsn); p != "" {
		return redactText(dsn, p)
	}
	return dsn
}

func redactText(s, password string) string {
	if password == "" {
		return s
	}
	s = strings.ReplaceAll(s, password, "xxxxx")
	// The keyword/value form writes \ and ' escaped.
	if esc := strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(password); esc != password {
		s = strings.ReplaceAll(s, esc, "xxxxx")
	}
	if esc := url.QueryEscape(password); esc != password {
		s = strings.ReplaceAll(s, esc, "xxxxx")
	}
	if esc := url.PathEscape(password); esc != password {
		s = strings.ReplaceAll(s, esc, "xxxxx")
	}
	return s
}

// passwordOf extracts the password of a DSN without validating the rest.
func passwordOf(dsn string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			if p, ok := u.User.Password(); ok {
				return p
			}
			return u.Query().Get("password")
		}
		// Unparseable URL: take what sits between ':' and '@' of the userinfo.
		rest := dsn[strings.Index(dsn, "//")+2:]
		if at := strings.LastIndex(rest, "@"); at > 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return rest[c+1 : at]
			}
		}
		return ""
	}
	return keywordValue(dsn, "password")
}

// keywordValue finds key in a libpq keyword/value string, honouring single
// quotes and backslash escapes (a password may contain spaces and quotes).
func keywordValue(dsn, key string) string {
	i := 0
	for i < len(dsn) {
		for i < len(dsn) && dsn[i] == ' ' {
			i++
		}
		eq := strings.IndexByte(dsn[i:], '=')
		if eq < 0 {
			return ""
		}
		k := strings.TrimSpace(dsn[i : i+eq])
		i += eq + 1
		for i < len(dsn) && dsn[i] == ' ' {
			i++
		}
		var v strings.Builder
		if i < len(dsn) && dsn[i] == '\'' {
			i++
			for i < len(dsn) && dsn[i] != '\'' {
				if dsn[i] == '\\' && i+1 < len(dsn) {
					i++
				}
				v.WriteByte(dsn[i])
				i++
			}
			i++ // closing quote
		} else {
			for i < len(dsn) && dsn[i] != ' ' {
				if dsn[i] == '\\' && i+1 < len(dsn) {
					i++
				}
				v.WriteByte(dsn[i])
				i++
			}
		}
		if k == key {
			return v.String()
		}
	}
	return ""
}

// ExtractionSQL is the query a run issues for rows after afterID, with its
// parameters written in as literals, so it can be wrapped in
// COPY (...) TO STDOUT to measure how fast PostgreSQL alone hands the rows
// over (the bench command's limit).
func ExtractionSQL(afterID int64) string {
	quoted := make([]string, 0, len(LoadedTypes()))
	for _, t := range LoadedTypes() {
		quoted = append(quoted, "'"+strings.ReplaceAll(t, "'", "''")+"'")
	}
	// Drop the comment lines first (they mention $1 and $2 too): COPY wants
	// the bare statement.
	var lines []string
	for _, l := range strings.Split(extractEventsSQL, "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "--") {
			lines = append(lines, l)
		}
	}
	q := strings.Join(lines, "\n")
	q = strings.Replace(q, "$1", fmt.Sprint(afterID), 1)
	return strings.Replace(q, "$2", "ARRAY["+strings.Join(quoted, ",")+"]::text[]", 1)
}

// MaxID returns the highest id in event_logs (cheap: the primary key's
// last entry), so progress can show how far a run has come.
func (s *PostgresSource) MaxID(ctx context.Context) (id int64, err error) {
	conn, err := s.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, conn.Close(context.Background())) }()
	var v *int64
	if err := conn.QueryRow(ctx, "SELECT max(id) FROM event_logs").Scan(&v); err != nil {
		return 0, &SourceError{Op: "read max id on " + s.name, Err: s.redact(err)}
	}
	if v == nil {
		return 0, nil
	}
	return *v, nil
}
