using System.Globalization;
using BenchmarkDotNet.Running;
using McpAuth.Benchmarks;

// dotnet run -c Release --project bench/McpAuth.Benchmarks -- [benchmarks (BenchmarkDotNet args) | report [tokens] | jwtbearer-host PORT AUTHORITY AUDIENCE | noop-auth-host PORT | fake-apiserver PORT [SERVER_TOKEN]]
return args.FirstOrDefault() switch
{
    "report" => await Report.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000),
    "jwtbearer-host" => await JwtBearerHost.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args[2], args[3]),
    "noop-auth-host" => await NoopAuthHost.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture)),
    "fake-apiserver" => await FakeApiServer.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args.Length > 2 ? args[2] : FakeApiServer.DefaultServerToken),
    "soak" => await SoakDriver.RunAsync(args[1..]),
    "replicas3" => await SharedCacheReplicas.RunAsync(args[1..]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(PipelineBenchmarks).Assembly).Run(args.SkipWhile(a => a == "benchmarks").ToArray());
    return 0;
}
