// Package directory keeps who takes part: clinics (tenants, with their
// publishable and hashed secret keys, origins, treatments, price and hours)
// and providers (licences, credentialed categories, DEA registrations).
// It also loads the seed file the local server takes with -seed.
package directory
