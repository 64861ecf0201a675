package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dlc-lang/dlc/compiler"
	"github.com/dlc-lang/dlc/lang"
	"github.com/spf13/cobra"
)

// newLSPCmd is dlc lsp: a language server on standard input and output.
func newLSPCmd(s *session) *cobra.Command {
	return &cobra.Command{
		Use:   "lsp",
		Short: docs["lsp"].short,
		Long:  docs["lsp"].long,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("dlc lsp: want no arguments, got %q (an editor starts the server as dlc lsp and sends it the files)", args)
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			if err := serveLSP(c.InOrStdin(), s.stdout); err != nil {
				return &runError{err}
			}
			return nil
		},
	}
}

// lspServer answers one editor. Requests are handled in order, one at a time; each
// document is compiled again whenever it changes (a .dl file compiles in milliseconds), and
// its program kept for hover and definition.
type lspServer struct {
	out      io.Writer
	docs     map[string]*lspDoc // by URI
	shutdown bool
}

type lspDoc struct {
	uri, path string
	text      []byte
	prog      *compiler.Program // nil when the text does not parse
}

// serveLSP runs the server until the client's exit notification or the end of its input.
// It returns an error for a broken stream, or for an exit without a shutdown first.
func serveLSP(in io.Reader, out io.Writer) error {
	s := &lspServer{out: out, docs: map[string]*lspDoc{}}
	r := bufio.NewReader(in)
	for {
		body, err := readMessage(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var m rpcMessage
		if err := json.Unmarshal(body, &m); err != nil {
			if err := s.reply(nil, nil, &rpcError{rpcParseError, "lsp: a message that is not JSON: " + err.Error()}); err != nil {
				return err
			}
			continue
		}
		if m.Method == "exit" {
			if !s.shutdown {
				return errors.New("lsp: exit before shutdown")
			}
			return nil
		}
		result, rerr := s.handle(&m)
		if m.ID == nil {
			continue // a notification: no answer, even to a failure
		}
		if err := s.reply(m.ID, result, rerr); err != nil {
			return err
		}
	}
}

func (s *lspServer) reply(id *json.RawMessage, result any, rerr *rpcError) error {
	m := &rpcMessage{ID: id, Error: rerr}
	if id == nil {
		null := json.RawMessage("null")
		m.ID = &null
	}
	if rerr == nil {
		b, err := json.Marshal(result)
		if err != nil {
			return err
		}
		m.Result = b
	}
	return writeMessage(s.out, m)
}

func (s *lspServer) notify(method string, params any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return writeMessage(s.out, &rpcMessage{Method: method, Params: b})
}

// The LSP types dlc uses, with the protocol's field names.
type (
	lspPosition struct {
		Line      int `json:"line"`
		Character int `json:"character"`
	}
	lspRange struct {
		Start lspPosition `json:"start"`
		End   lspPosition `json:"end"`
	}
	lspLocation struct {
		URI   string   `json:"uri"`
		Range lspRange `json:"range"`
	}
	lspDiagnostic struct {
		Range    lspRange `json:"range"`
		Severity int      `json:"severity"`
		Source   string   `json:"source"`
		Message  string   `json:"message"`
	}
	lspTextEdit struct {
		Range   lspRange `json:"range"`
		NewText string   `json:"newText"`
	}
	lspDocumentID struct {
		URI string `json:"uri"`
	}
	lspPositionParams struct {
		TextDocument lspDocumentID `json:"textDocument"`
		Position     lspPosition   `json:"position"`
	}
)

// handle answers one request or takes one notification.
func (s *lspServer) handle(m *rpcMessage) (any, *rpcError) {
	if s.shutdown && m.Method != "exit" {
		return nil, &rpcError{rpcInvalidRequest, "lsp: the server is shut down"}
	}
	switch m.Method {
	case "initialize":
		return map[string]any{
			"capabilities": map[string]any{
				"textDocumentSync":           map[string]any{"openClose": true, "change": 1},
				"hoverProvider":              true,
				"definitionProvider":         true,
				"documentFormattingProvider": true,
			},
			"serverInfo": map[string]any{"name": "dlc", "version": version()},
		}, nil
	case "initialized", "$/cancelRequest", "$/setTrace", "workspace/didChangeConfiguration", "textDocument/didSave":
		return nil, nil
	case "shutdown":
		s.shutdown = true
		return nil, nil
	case "textDocument/didOpen":
		var p struct {
			TextDocument struct {
				URI  string `json:"uri"`
				Text string `json:"text"`
			} `json:"textDocument"`
		}
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, invalidParams(err)
		}
		return nil, s.update(p.TextDocument.URI, p.TextDocument.Text)
	case "textDocument/didChange":
		var p struct {
			TextDocument   lspDocumentID `json:"textDocument"`
			ContentChanges []struct {
				Range *lspRange `json:"range"`
				Text  string    `json:"text"`
			} `json:"contentChanges"`
		}
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, invalidParams(err)
		}
		if len(p.ContentChanges) == 0 {
			return nil, nil
		}
		// The server asked for whole documents (change: 1), so the last change is the text.
		last := p.ContentChanges[len(p.ContentChanges)-1]
		if last.Range != nil {
			return nil, &rpcError{rpcInvalidParams, "lsp: an incremental change; dlc asked for full documents"}
		}
		return nil, s.update(p.TextDocument.URI, last.Text)
	case "textDocument/didClose":
		var p struct {
			TextDocument lspDocumentID `json:"textDocument"`
		}
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, invalidParams(err)
		}
		delete(s.docs, p.TextDocument.URI)
		return nil, toRPC(s.notify("textDocument/publishDiagnostics", map[string]any{"uri": p.TextDocument.URI, "diagnostics": []lspDiagnostic{}}))
	case "textDocument/hover":
		d, off, rerr := s.position(m.Params)
		if rerr != nil || d == nil {
			return nil, rerr
		}
		span, text, ok := d.prog.ValueAt(d.path, off)
		if !ok {
			return nil, nil
		}
		return map[string]any{
			"contents": map[string]any{"kind": "markdown", "value": "```\n" + text + "\n```"},
			"range":    lspRange{toLSP(d.text, span.Start), toLSP(d.text, span.End)},
		}, nil
	case "textDocument/definition":
		d, off, rerr := s.position(m.Params)
		if rerr != nil || d == nil || d.prog == nil {
			return nil, rerr
		}
		pos, ok := d.prog.DefinitionAt(d.path, off)
		if !ok {
			return nil, nil
		}
		text := d.prog.Source(pos.Filename)
		end := lang.TokenEnd(text, pos)
		return lspLocation{URI: pathURI(pos.Filename), Range: lspRange{toLSP(text, pos), toLSP(text, end)}}, nil
	case "textDocument/formatting":
		var p struct {
			TextDocument lspDocumentID `json:"textDocument"`
		}
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, invalidParams(err)
		}
		d := s.docs[p.TextDocument.URI]
		if d == nil {
			return nil, &rpcError{rpcInvalidParams, "lsp: formatting a document that is not open: " + p.TextDocument.URI}
		}
		out, err := lang.Format(d.path, d.text)
		if err != nil {
			return nil, &rpcError{rpcRequestFailed, err.Error()}
		}
		if bytes.Equal(out, d.text) {
			return []lspTextEdit{}, nil
		}
		return []lspTextEdit{{Range: lspRange{End: endOf(d.text)}, NewText: string(out)}}, nil
	}
	if strings.HasPrefix(m.Method, "$/") || m.ID == nil {
		return nil, nil // optional notifications may be ignored
	}
	return nil, &rpcError{rpcMethodNotFound, "lsp: dlc does not answer " + m.Method}
}

func invalidParams(err error) *rpcError {
	return &rpcError{rpcInvalidParams, "lsp: " + err.Error()}
}

func toRPC(err error) *rpcError {
	if err == nil {
		return nil
	}
	return &rpcError{rpcRequestFailed, err.Error()}
}

// position decodes a text-document position: the open document and the byte offset.
func (s *lspServer) position(params json.RawMessage) (*lspDoc, int, *rpcError) {
	var p lspPositionParams
	if err := json.Unmarshal(params, &p); err != nil {
		return nil, 0, invalidParams(err)
	}
	d := s.docs[p.TextDocument.URI]
	if d == nil || d.prog == nil {
		return nil, 0, nil
	}
	return d, fromLSP(d.text, p.Position), nil
}

// update compiles a document's new text and publishes its diagnostics.
func (s *lspServer) update(uri, text string) *rpcError {
	path, err := uriPath(uri)
	if err != nil {
		return &rpcError{rpcInvalidParams, err.Error()}
	}
	d := &lspDoc{uri: uri, path: path, text: []byte(text)}
	s.docs[uri] = d
	// An import reads the editor's text of a file open in it, else the file on disk.
	read := func(name string) ([]byte, error) {
		for _, o := range s.docs {
			if o.path == name {
				return o.text, nil
			}
		}
		return os.ReadFile(name)
	}
	prog, cerr := compiler.Analyze(path, d.text, compiler.Options{ReadFile: read})
	d.prog = prog
	diags := []lspDiagnostic{}
	for _, e := range diagnostics(cerr) {
		diags = append(diags, s.diagnostic(d, e))
	}
	return toRPC(s.notify("textDocument/publishDiagnostics", map[string]any{"uri": uri, "diagnostics": diags}))
}

// diagnostics lists the compiler's errors: one, or each of a list.
func diagnostics(err error) []error {
	if err == nil {
		return nil
	}
	var list lang.ErrorList
	if errors.As(err, &list) {
		out := make([]error, len(list))
		for i, e := range list {
			out[i] = e
		}
		return out
	}
	return []error{err}
}

// diagnostic places an error in the document: at its token when it points into the
// document, else (an error of an imported file, or one without a position) at the start,
// with its file:line:col in the message.
func (s *lspServer) diagnostic(d *lspDoc, err error) lspDiagnostic {
	diag := lspDiagnostic{Severity: 1, Source: "dlc", Message: err.Error()}
	var le *lang.Error
	if errors.As(err, &le) && le.Pos.Filename == d.path && le.Pos.Line > 0 {
		diag.Message = le.Msg
		diag.Range = lspRange{toLSP(d.text, le.Pos), toLSP(d.text, lang.TokenEnd(d.text, le.Pos))}
	}
	return diag
}

// toLSP converts a source position (1-based line, column in runes) to the protocol's
// (0-based line, character in UTF-16 code units).
func toLSP(text []byte, pos lang.Pos) lspPosition {
	if pos.Line < 1 {
		return lspPosition{}
	}
	line := lineText(text, pos.Line-1)
	ch := 0
	for i, col := 0, 1; i < len(line) && col < pos.Column; col++ {
		r, n := utf8.DecodeRune(line[i:])
		ch += utf16.RuneLen(r)
		i += n
	}
	return lspPosition{Line: pos.Line - 1, Character: ch}
}

// fromLSP converts a protocol position to a byte offset of text (clamped to its line).
func fromLSP(text []byte, p lspPosition) int {
	start := 0
	for l := 0; l < p.Line; l++ {
		i := bytes.IndexByte(text[start:], '\n')
		if i < 0 {
			return len(text)
		}
		start += i + 1
	}
	off, units := start, 0
	for off < len(text) && text[off] != '\n' && units < p.Character {
		r, n := utf8.DecodeRune(text[off:])
		units += utf16.RuneLen(r)
		off += n
	}
	return off
}

func lineText(text []byte, n int) []byte {
	for ; n > 0; n-- {
		i := bytes.IndexByte(text, '\n')
		if i < 0 {
			return nil
		}
		text = text[i+1:]
	}
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return text
}

// endOf is the protocol position of the end of text.
func endOf(text []byte) lspPosition {
	line := bytes.Count(text, []byte("\n"))
	last := text[bytes.LastIndexByte(text, '\n')+1:]
	ch := 0
	for _, r := range string(last) {
		ch += utf16.RuneLen(r)
	}
	return lspPosition{Line: line, Character: ch}
}

// uriPath is the file path of a file: URI.
func uriPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "file" {
		return "", fmt.Errorf("lsp: document URI %q, want a file: URI", uri)
	}
	return filepath.FromSlash(u.Path), nil
}

// pathURI is the file: URI of a path.
func pathURI(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}
