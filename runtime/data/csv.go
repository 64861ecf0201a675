package data

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// HeaderMode says whether a CSV file starts with a row of column names.
type HeaderMode int

const (
	// HeaderAuto treats the first row as a header when none of its fields
	// is a number (isHeader): a data row with a typo in one field is still
	// data, and its line is reported, rather than dropped as a header.
	HeaderAuto HeaderMode = iota
	// HeaderPresent always treats the first row as a header.
	HeaderPresent
	// HeaderAbsent treats every row as data.
	HeaderAbsent
)

// CSVOptions controls how CSV reads a file.
type CSVOptions struct {
	Header HeaderMode
	// LabelColumn names the target column: a header name, or a 0-based
	// index written in decimal. "" or "-1" means the file has no targets.
	LabelColumn string
	// Regression makes the label column a real-valued target, Y [N, 1].
	// Otherwise it must hold class indices 0..K-1, which become Labels and
	// a one-hot Y [N, K].
	Regression bool
	// Classes is K for one-hot targets; 0 means the largest label plus one.
	Classes int
	// Comma is the field separator; 0 means ','.
	Comma rune
}

// CSV reads a numeric CSV file into a Set. Every row must have the same
// number of fields and every field must be a finite number (header aside).
// X holds the non-label columns, [N, columns]. The file may be at most
// MaxFileBytes, a line at most MaxCSVLine, and X at most MaxValues.
func CSV(path string, opts CSVOptions) (*Set, error) {
	f, _, err := openInput(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCSV(f, path, opts)
}

func readCSV(r io.Reader, name string, opts CSVOptions) (*Set, error) {
	r = &boundedReader{r: skipBOM(r), left: MaxFileBytes}
	r = &lineBoundedReader{r: r, max: MaxCSVLine, num: 1}
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.Comma = ','
	if opts.Comma != 0 {
		cr.Comma = opts.Comma
	}
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	// Checked below, to say how many fields were found.
	cr.FieldsPerRecord = -1

	var (
		header []string
		label  = -1
		cols   int
		x, y   []float32
		labels []int
		n      int
	)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		if !first && len(rec) != cols {
			return nil, lineErrorf(name, line, "got %d fields, want %d like the first row", len(rec), cols)
		}
		if first {
			cols = len(rec)
			if opts.Header == HeaderPresent || opts.Header == HeaderAuto && isHeader(rec) {
				header = append([]string(nil), rec...)
			}
			if label, err = labelIndex(name, opts.LabelColumn, header, cols); err != nil {
				return nil, err
			}
			if header != nil {
				continue
			}
		}
		for i, field := range rec {
			v, err := parseField(field)
			if err != nil {
				return nil, lineErrorf(name, line, "%s: got %q, want %s", columnName(header, i), field, err)
			}
			if i != label {
				x = append(x, float32(v))
				continue
			}
			if opts.Regression {
				y = append(y, float32(v))
				continue
			}
			if v != math.Trunc(v) || v < 0 {
				return nil, lineErrorf(name, line, "label %s: got %q, want a class index (an integer >= 0); set Regression for real-valued targets",
					columnName(header, i), field)
			}
			if v >= MaxClasses || opts.Classes > 0 && v >= float64(opts.Classes) {
				return nil, lineErrorf(name, line, "label %s: got %q, want a class index below %d",
					columnName(header, i), field, cmp.Or(opts.Classes, MaxClasses))
			}
			labels = append(labels, int(v))
		}
		n++
		if len(x) > MaxValues || len(y) > MaxValues {
			return nil, lineErrorf(name, line, "more than %d values", MaxValues)
		}
	}
	if n == 0 {
		return nil, errorf(name, "no data rows")
	}
	nx := cols
	if label >= 0 {
		nx--
	}
	s := &Set{X: x, XShape: []int{n, nx}}
	switch {
	case label < 0:
	case opts.Regression:
		s.Y, s.YShape = y, []int{n, 1}
	default:
		y, k, err := oneHot(name, labels, opts.Classes)
		if err != nil {
			return nil, err
		}
		s.Labels, s.Y, s.YShape = labels, y, []int{n, k}
	}
	return s, nil
}

// parseField returns a finite number that fits in a float32, or a phrase
// saying what was wanted.
func parseField(field string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(field), 64)
	if err != nil {
		return 0, errors.New("a number")
	}
	// Overflowing float32 would turn into an infinity in training.
	if math.IsNaN(v) || math.IsInf(float64(float32(v)), 0) {
		return 0, errors.New("a finite float32")
	}
	return v, nil
}

// isHeader is the header rule of every CSV file dlc reads without being told
// (spec.md §"CSV files"): the first row is a row of column names when none
// of its fields parses as a number and none is empty. A data row holding a
// typo ("0.1,0.2x,3") has numbers beside it, so it stays data and its bad
// field is reported with its line: the rule cannot silently eat a row of
// data. "NaN" and "inf" parse as numbers, so a row holding one is data too.
func isHeader(rec []string) bool {
	for _, f := range rec {
		f = strings.TrimSpace(f)
		if _, err := strconv.ParseFloat(f, 64); err == nil || f == "" {
			return false
		}
	}
	return len(rec) > 0
}

// skipBOM drops a UTF-8 byte-order mark at the start of r, which editors on
// Windows write before a CSV file: left in, it would make the first field
// "\ufeff0", a header to the rule above and a lost first row.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	return br
}

// labelIndex resolves LabelColumn against the header (by name first, so a
// column named "3" means that column) and then as an index.
func labelIndex(name, col string, header []string, cols int) (int, error) {
	col = strings.TrimSpace(col)
	if col == "" || col == "-1" {
		return -1, nil
	}
	for i, h := range header {
		if strings.TrimSpace(h) == col {
			return i, nil
		}
	}
	i, err := strconv.Atoi(col)
	if err != nil {
		if header == nil {
			return 0, errorf(name, "label column %q: the file has no header row, want a column index", col)
		}
		return 0, errorf(name, "label column %q not in header %q", col, header)
	}
	if i < 0 || i >= cols {
		return 0, errorf(name, "label column %d out of range, the file has %d columns", i, cols)
	}
	return i, nil
}

func columnName(header []string, i int) string {
	if header != nil {
		return fmt.Sprintf("field %d (%q)", i+1, header[i])
	}
	return fmt.Sprintf("field %d", i+1)
}

func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("data: %s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
	}
	return errorf(name, "%v", err)
}

func lineErrorf(name string, line int, format string, args ...any) error {
	return fmt.Errorf("data: %s:%d: "+format, append([]any{name, line}, args...)...)
}
