# Goodfaith — common commands. `make test` is what CI runs.
.PHONY: run test test-short bench fuzz vet lambdas lambda-bench site clean widget widget-test widget-size

run: ## the product on the embedded store, with demo data
	go run ./infra/local

test: ## every test: installs and starts DynamoDB Local and MinIO, -race, brief fuzzing
	bash infra/testenv/run-tests.sh

test-short: ## unit and embedded-store tests only (no services)
	go test -short -race ./...

bench: ## the budgets, measured briefly: Go benchmarks, load runs on both homes (exams/s, p99), Lambda cold start and size, widget sizes, cost per exam, read endpoint vs bare net/http
	bash infra/load/bench.sh

widget: ## rebuild the patient widget (widget/dist, committed) after changing widget/src
	cd widget && npm ci --no-audit --no-fund && npm run build

widget-test: ## the widget's browser tests (Debian chromium via playwright-core) against a local server
	cd widget && { test -d node_modules || npm ci --no-audit --no-fund; } && npm test

widget-size: ## the widget's budgets, measured: loader and frame gzipped sizes, first screen interactive time
	cd widget && { test -d node_modules || npm ci --no-audit --no-fund; } && node scripts/size.mjs

vet:
	go vet ./...
	@test -z "$$(gofmt -l internal infra functions)" || (gofmt -l internal infra functions; exit 1)

lambdas: ## each functions/<name> for Lambda (linux/arm64): dist/<name>/bootstrap and dist/<name>.zip, with their sizes
	@set -e; for dir in functions/*/; do \
		name=$$(basename "$$dir"); \
		echo "go build ./$$dir -> dist/$$name/bootstrap"; \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "dist/$$name/bootstrap" "./$$dir"; \
	done
	@go run ./infra/zipbootstrap $$(for dir in functions/*/; do echo "dist/$$(basename "$$dir")/bootstrap"; done)

lambda-bench: lambdas ## cold start (process start -> first answer, DynamoDB Local + MinIO; mean and median of 20 new processes after 20 untimed runs that warm the emulator) and binary size per function; goal <= 50 ms, <= 15 MB
	bash infra/testenv/with-services.sh go test -run '^$$' -bench ColdStart -benchtime 20x ./functions/

site: ## the provider console and clinic dashboard for the site bucket (dist/site); STACK=<stack> also writes each page's config.json from the stack's outputs, uploads and invalidates (infra/deploy/README.md)
	@set -e; rm -rf dist/site; for p in console dashboard; do \
		mkdir -p dist/site/$$p; \
		cp widget/dist/$$p.html dist/site/$$p/index.html; \
		cp widget/dist/$$p.js widget/dist/app.css dist/site/$$p/; \
	done; \
	if [ -z "$(STACK)" ]; then echo "dist/site built; STACK=<stack name> make site writes config.json and uploads"; exit 0; fi; \
	out() { aws cloudformation describe-stacks --stack-name "$(STACK)" --query "Stacks[0].Outputs[?OutputKey=='$$1'].OutputValue" --output text; }; \
	out ConsoleConfig > dist/site/console/config.json; \
	out DashboardConfig > dist/site/dashboard/config.json; \
	aws s3 sync dist/site "s3://$$(out SiteBucketName)/" --delete --cache-control no-store; \
	aws cloudfront create-invalidation --distribution-id "$$(out SiteDistributionId)" --paths '/console/*' '/dashboard/*'

clean:
	rm -rf dist goodfaith-data
