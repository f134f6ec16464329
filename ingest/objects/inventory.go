package objects

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// An inventory data file as its manifest names it: where it is on disk and
// what the manifest says it should be.
type inventoryFile struct {
	path string
	// size is the byte count the manifest gives; -1 when it gives none.
	size int64
	// md5 is the hex MD5 of the stored bytes; "" when the manifest gives none.
	md5 string
}

// findRoot returns the directory under which rel (a key relative to the
// inventory's destination bucket or container) resolves, searching from
// dir upwards: a local copy made with `aws s3 sync` or `azcopy` keeps the
// destination's layout, so the manifest sits some levels below the root
// its file keys are relative to.
func findRoot(dir, rel string) (string, bool) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, filepath.FromSlash(rel))); err == nil {
			return d, true
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", false
		}
		d = parent
	}
}

// resolveFiles maps the manifest's relative file names to local paths under
// the root the first of them resolves in, and checks that every file is
// there.
func resolveFiles(manifest string, rels []string, sizes []int64, md5s []string) ([]inventoryFile, error) {
	if len(rels) == 0 {
		return nil, fmt.Errorf("%s names no data files", manifest)
	}
	root, ok := findRoot(filepath.Dir(manifest), rels[0])
	if !ok {
		return nil, fmt.Errorf("%s names data file %s, which is not under %s or any directory above it: copy the whole inventory destination, keeping its layout",
			manifest, rels[0], filepath.Dir(manifest))
	}
	files := make([]inventoryFile, len(rels))
	for i, rel := range rels {
		files[i] = inventoryFile{path: filepath.Join(root, filepath.FromSlash(rel)), size: -1}
		if sizes != nil {
			files[i].size = sizes[i]
		}
		if md5s != nil {
			files[i].md5 = strings.ToLower(md5s[i])
		}
		if _, err := os.Stat(files[i].path); err != nil {
			return nil, fmt.Errorf("%s names data file %s, which is missing: %w", manifest, rel, err)
		}
	}
	return files, nil
}

// verify checks a data file against its manifest entry. DuckDB reads a gzip
// stream cut short at a row boundary without complaint, so the size and
// checksum are what tell a truncated copy from a whole one.
func (f inventoryFile) verify() error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if f.size >= 0 && st.Size() != f.size {
		return fmt.Errorf("%s is %d bytes, its manifest says %d: the copy is truncated or changed", f.path, st.Size(), f.size)
	}
	if f.md5 == "" {
		return nil
	}
	h := md5.New()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("read %s: %w", f.path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.md5 {
		return fmt.Errorf("%s has MD5 %s, its manifest says %s: the copy is corrupt or changed", f.path, got, f.md5)
	}
	return nil
}

// verifyChecksumFile compares a manifest with the MD5 its provider writes
// beside it (manifest.checksum, <rule>-manifest.checksum), when that file
// is there.
func verifyChecksumFile(manifest, checksumPath string, body []byte) error {
	want, err := os.ReadFile(checksumPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	sum := md5.Sum(body)
	if got, w := hex.EncodeToString(sum[:]), strings.ToLower(strings.TrimSpace(string(want))); got != w {
		return fmt.Errorf("%s has MD5 %s, %s says %s: the manifest is incomplete or changed", manifest, got, checksumPath, w)
	}
	return nil
}

// csvHeader reads the header row of a CSV data file (gzip or plain) and
// the delimiter it uses: GCS reports let the user choose the delimiter.
func csvHeader(path string) (names []string, delim rune, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer fh.Close()
	var r io.Reader = fh
	if isGzip(path) {
		zr, err := gzip.NewReader(fh)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	names, delim, err = parseCSVHeader(r)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	return names, delim, nil
}

// csvDelimiters are the delimiters a header row is tried with.
var csvDelimiters = []rune{',', '\t', ';', '|'}

// parseCSVHeader reads the first line of r as a header row: the delimiter
// is the one of csvDelimiters that splits it into the most fields, of
// which there must be two or more.
func parseCSVHeader(r io.Reader) (names []string, delim rune, err error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && line == "" {
		return nil, 0, fmt.Errorf("no header row: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	best, bestDelim := []string(nil), ','
	for _, d := range csvDelimiters {
		cr := csv.NewReader(strings.NewReader(line))
		cr.Comma = d
		rec, err := cr.Read()
		if err == nil && len(rec) > len(best) {
			best, bestDelim = rec, d
		}
	}
	if len(best) < 2 {
		return nil, 0, fmt.Errorf("header row %q has fewer than two fields", line)
	}
	for i := range best {
		best[i] = strings.TrimSpace(best[i])
	}
	return best, bestDelim, nil
}

// parseManifest decodes a manifest (what names its kind) and checks the
// data file names that names returns.
func parseManifest[M any](body []byte, what string, names func(M) []string) (M, error) {
	var m, zero M
	if err := json.Unmarshal(body, &m); err != nil {
		return zero, fmt.Errorf("not an %s manifest: %w", what, err)
	}
	if err := checkReportNames(what+" manifest: data file", names(m)); err != nil {
		return zero, err
	}
	return m, nil
}

// checkReportNames checks every data file name a manifest lists; what
// says which manifest and field, for the error.
func checkReportNames(what string, names []string) error {
	for _, n := range names {
		if err := checkReportName(n); err != nil {
			return fmt.Errorf("%s %w", what, err)
		}
	}
	return nil
}

// checkReportName checks a data file's name from a manifest: it must be
// relative to the report's root and stay inside it. A manifest is data
// read from a bucket, and a name like ../../etc/passwd or /etc/passwd must
// reach no file outside the report (nor be written outside a fetched
// copy).
func checkReportName(name string) error {
	switch {
	case name == "":
		return errors.New("with an empty name")
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%q has a NUL byte in its name", name)
	case strings.HasPrefix(name, "/") || filepath.IsAbs(name) || filepath.VolumeName(name) != "":
		return fmt.Errorf("%q is an absolute path; a manifest names files relative to the report's bucket or container", name)
	}
	for _, part := range strings.Split(filepath.ToSlash(name), "/") {
		if part == ".." {
			return fmt.Errorf("%q leaves the report's root (a .. component); a manifest names files inside the report's bucket or container", name)
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return fmt.Errorf("%q is not a path inside the report's root", name)
	}
	return nil
}

func isGzip(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".gz") }

// columnSet is the columns an inventory file has, by name, with their DuckDB
// types (all VARCHAR for CSV, which matlens casts itself so that a bad value
// names its file).
type columnSet map[string]string

// csvColumns are the named columns of a CSV file read as text.
func csvColumns(names []string) columnSet {
	c := make(columnSet, len(names))
	for _, n := range names {
		c[n] = "VARCHAR"
	}
	return c
}

// first returns the first of the candidate names the file has.
func (c columnSet) first(names ...string) (string, bool) {
	for _, n := range names {
		if _, ok := c[n]; ok {
			return n, true
		}
	}
	return "", false
}

// readCSVSQL is the read_csv call over one file ($4) with the given columns
// in order: no sniffing, so a row with the wrong number of fields is an
// error that names the file and line instead of a guess at the dialect.
func readCSVSQL(names []string, header bool, delim rune, gzipped bool) string {
	cols := make([]string, len(names))
	for i, n := range names {
		cols[i] = sqlString(n) + ": 'VARCHAR'"
	}
	compression := "none"
	if gzipped {
		compression = "gzip"
	}
	return fmt.Sprintf("read_csv($4, header = %t, auto_detect = false, delim = %s, quote = '\"', escape = '\"', compression = '%s', columns = {%s})",
		header, sqlString(string(delim)), compression, strings.Join(cols, ", "))
}

// sqlString quotes s as a SQL string literal.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident quotes a column name.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// textExpr is a column as text with empty values as NULL; NULL when the
// file lacks the column.
func textExpr(c columnSet, names ...string) string {
	n, ok := c.first(names...)
	if !ok {
		return "NULL::VARCHAR"
	}
	if c[n] == "VARCHAR" {
		return fmt.Sprintf("nullif(trim(%s), '')", ident(n))
	}
	return fmt.Sprintf("CAST(%s AS VARCHAR)", ident(n))
}

// sizeExpr is a byte count; delete markers and other rows without a size
// count 0.
func sizeExpr(c columnSet, names ...string) string {
	n, _ := c.first(names...)
	if c[n] == "VARCHAR" {
		return fmt.Sprintf("coalesce(CAST(nullif(trim(%s), '') AS BIGINT), 0)", ident(n))
	}
	return fmt.Sprintf("coalesce(CAST(%s AS BIGINT), 0)", ident(n))
}

// timeExpr is a UTC timestamp from ISO 8601 text (any fraction, Z or an
// offset), RFC 1123 text (Azure's Last-Modified header form), a Parquet
// timestamp, or epoch milliseconds (Parquet int64 columns).
func timeExpr(c columnSet, names ...string) string {
	n, ok := c.first(names...)
	if !ok {
		return "NULL::TIMESTAMP"
	}
	col := ident(n)
	switch t := c[n]; {
	case t == "VARCHAR":
		return fmt.Sprintf("CASE WHEN trim(%[1]s) = '' THEN NULL WHEN %[1]s LIKE '%%GMT' THEN strptime(trim(%[1]s), '%%a, %%d %%b %%Y %%H:%%M:%%S GMT') ELSE CAST(trim(%[1]s) AS TIMESTAMP) END", col)
	case strings.HasPrefix(t, "TIMESTAMP"):
		return fmt.Sprintf("CAST(%s AS TIMESTAMP)", col)
	default:
		return fmt.Sprintf("epoch_ms(CAST(%s AS BIGINT))", col)
	}
}

// boolExpr is a flag (true / True / TRUE, or a Parquet boolean), with def
// where the file lacks the column or the value is empty.
func boolExpr(c columnSet, def bool, names ...string) string {
	n, ok := c.first(names...)
	if !ok {
		return fmt.Sprintf("%t", def)
	}
	if c[n] == "VARCHAR" {
		return fmt.Sprintf("coalesce(lower(nullif(trim(%s), '')) = 'true', %t)", ident(n), def)
	}
	return fmt.Sprintf("coalesce(CAST(%s AS BOOLEAN), %t)", ident(n), def)
}

// newestMatch returns the lexically greatest path under dir whose name
// satisfies match: inventory runs are named by their UTC start time, so the
// greatest is the newest.
func newestMatch(dir string, match func(rel string, d fs.DirEntry) bool) (string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if match(filepath.ToSlash(rel), d) {
			found = append(found, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(found) == 0 {
		return "", nil
	}
	sort.Strings(found)
	return found[len(found)-1], nil
}

// duckError keeps what a DuckDB reader error says about the data (the line,
// the row, what was expected) and drops its list of read_csv options to
// try, which would mislead here: matlens sets them from the manifest.
func duckError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "\nPossible fixes"); i >= 0 {
		msg = msg[:i]
	}
	return errors.New(strings.TrimSpace(msg))
}

// headedFileColumns reads the columns of a data file that names them
// itself, Parquet or CSV with a header row (GCS, Azure), and the FROM
// clause that reads it as parameter $4.
func (s *Snapshot) headedFileColumns(ctx context.Context, path string) (columnSet, string, error) {
	if strings.HasSuffix(path, ".parquet") {
		cols, err := s.parquetColumns(ctx, path)
		return cols, "read_parquet($4)", err
	}
	names, delim, err := csvHeader(path)
	if err != nil {
		return nil, "", err
	}
	return csvColumns(names), readCSVSQL(names, true, delim, isGzip(path)), nil
}
