// Package sigc is a Sigma rule compiler: it turns Sigma detection rules into
// SIEM queries and evaluates the same rules over sample logs. See README.md
// and docs/architecture.md.
package sigc
