package serve

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/swelego/swelego/core/llm/openai"
)

// APIError is an error answered in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}} with an HTTP status.
type APIError struct {
	Status  int
	Message string
	Type    string
	Param   string
	Code    string
}

func (e *APIError) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%d %s (%s): %s", e.Status, e.Type, e.Param, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message)
}

// Error types, as OpenAI names them.
const (
	typeInvalid  = "invalid_request_error"
	typeNotFound = "not_found_error"
	typeServer   = "server_error"
)

// Error codes.
const (
	codeModelNotFound  = "model_not_found"
	codeContextLength  = "context_length_exceeded"
	codeInvalidValue   = "invalid_value"
	codeMethodNotAllow = "method_not_allowed"
)

func invalid(param, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Type: typeInvalid, Param: param, Code: codeInvalidValue,
		Message: fmt.Sprintf(format, args...)}
}

// write sends the error body.
func (e *APIError) write(w http.ResponseWriter) {
	b := openai.ErrorDetail{Message: e.Message, Type: e.Type}
	if e.Param != "" {
		b.Param = &e.Param
	}
	if e.Code != "" {
		b.Code = &e.Code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(openai.ErrorBody{Error: b})
}
