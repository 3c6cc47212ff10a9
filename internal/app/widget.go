package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/widget"
)

// WidgetHandler serves the patient widget (loader, frame page and assets)
// under widget.Prefix; the frame may be embedded only by the origins of the
// clinic whose publishable key it is opened with. connectSrc lists origins
// other than this one the frame uploads to (the blob store in AWS).
func (a *App) WidgetHandler(connectSrc ...string) http.Handler {
	return widget.Handler(widget.Options{
		Origins: func(ctx context.Context, pk string) ([]string, bool, error) {
			c, err := a.Directory.ClinicByPublishableKey(ctx, pk)
			if errors.Is(err, fault.ErrNotFound) {
				return nil, false, nil
			}
			if err != nil {
				return nil, false, err
			}
			return c.AllowedOrigins, true, nil
		},
		ConnectSrc: connectSrc,
	})
}
