package app

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/goodfaith/goodfaith/internal/fault"
	"github.com/goodfaith/goodfaith/internal/httpapi"
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

// PatientHandler serves what the patient function answers: the patient API
// routes (httpapi.Patient) and the widget under widget.Prefix, as the local
// server serves them. The widget is served by the function, not as static
// files, because the frame's CSP frame-ancestors are the origins of the
// clinic whose key it is opened with. connectSrc: where the frame uploads
// photos (AWS.BlobOrigin).
func (a *App) PatientHandler(connectSrc ...string) http.Handler {
	api, wid := a.Serve(httpapi.PatientRoutes), a.WidgetHandler(connectSrc...)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, widget.Prefix) {
			wid.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
