using System.Globalization;
using BenchmarkDotNet.Running;
using McpAuth.Benchmarks;

// dotnet run -c Release --project bench/McpAuth.Benchmarks -- [benchmarks (BenchmarkDotNet args) | report [tokens] | jwtbearer-host PORT AUTHORITY AUDIENCE]
return args.FirstOrDefault() switch
{
    "report" => await Report.RunAsync(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1_000_000),
    "jwtbearer-host" => await JwtBearerHost.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args[2], args[3]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(PipelineBenchmarks).Assembly).Run(args.SkipWhile(a => a == "benchmarks").ToArray());
    return 0;
}
