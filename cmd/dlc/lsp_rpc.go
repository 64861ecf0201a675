package main

// The JSON-RPC 2.0 framing of the Language Server Protocol, written here rather than taken
// from github.com/tliron/glsp v0.2.2: a message is a Content-Length header, a blank line and
// that many bytes of JSON, and the server answers requests one at a time; that is this
// file. glsp would bring four direct and fourteen indirect modules (gorilla/websocket,
// sourcegraph/jsonrpc2, tliron/commonlog and kutil, golang.org/x/net and x/crypto, a
// deadlock detector, a terminal colour library) and its own logging set-up, for the
// handful of LSP messages dlc answers.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/textproto"
	"strconv"
	"strings"
)

// maxMessage bounds one message's body: a .dl document is a few kilobytes.
const maxMessage = 64 << 20

type rpcMessage struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id,omitempty"`
	Method  string           `json:"method,omitempty"`
	Params  json.RawMessage  `json:"params,omitempty"`
	Result  json.RawMessage  `json:"result,omitempty"`
	Error   *rpcError        `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// The JSON-RPC and LSP error codes dlc uses.
const (
	rpcParseError     = -32700
	rpcInvalidRequest = -32600
	rpcMethodNotFound = -32601
	rpcInvalidParams  = -32602
	rpcRequestFailed  = -32803
)

// readMessage reads one framed message: its headers (Content-Length is required; a
// Content-Type is allowed and ignored) and its body.
func readMessage(r *bufio.Reader) ([]byte, error) {
	tp := textproto.NewReader(r)
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		if err == io.EOF && len(h) == 0 {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("lsp: reading a message header: %v", err)
	}
	v := h.Get("Content-Length")
	if v == "" {
		return nil, fmt.Errorf("lsp: a message without a Content-Length header")
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 || n > maxMessage {
		return nil, fmt.Errorf("lsp: Content-Length %q, want a length of at most %d bytes", v, maxMessage)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, fmt.Errorf("lsp: a message body shorter than its Content-Length %d: %v", n, err)
	}
	return body, nil
}

// writeMessage frames and writes one message.
func writeMessage(w io.Writer, m *rpcMessage) error {
	m.JSONRPC = "2.0"
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}
