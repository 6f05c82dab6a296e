package guestclient

import (
	"context"

	"connectrpc.com/connect"

	"github.com/paddock/paddock/internal/guestproto"
)

// headerInterceptor adds the access token to every RPC.
type headerInterceptor struct{ token string }

func (i *headerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if i.token != "" {
			req.Header().Set(guestproto.AccessTokenHeader, i.token)
		}
		return next(ctx, req)
	}
}

func (i *headerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		if i.token != "" {
			conn.RequestHeader().Set(guestproto.AccessTokenHeader, i.token)
		}
		return conn
	}
}

func (i *headerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}
