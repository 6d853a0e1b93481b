-- Sends the bench token the way the SDKs do: verbatim in Authorization.
wrk.headers["Authorization"] = os.getenv("BENCH_TOKEN")
