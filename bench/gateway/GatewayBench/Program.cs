// Benchmark of Flare's /v1 data plane (issue 4): added latency, throughput, streaming TTFT, memory, and
// the request log on vs off. bench/gateway/run.sh starts the processes and calls this twice:
//   GatewayBench upstream --url http://127.0.0.1:PORT
//       a fast OpenAI-compatible backend (FastUpstream.cs), as its own process
//   GatewayBench run --upstream http://127.0.0.1:PORT --upstream-pid PID --key KEY --flare NAME=URL,PID [--flare ...]
//       [--quick] [--phases memory,latency,stream,throughput]
//       registers the upstream in each Flare through /api, then sends the same requests directly and through
//       each Flare in interleaved phases and prints Markdown tables
//   GatewayBench scaleout ... (ScaleOut.cs)
//       requests/s of one Flare host and of two sharing a PostgreSQL database, for bench/scaleout/run.sh
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Bench.Gateway;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length >= 3 && args[0] == "upstream" && args[1] == "--url")
{
    FastUpstream.Run(args[2]);
    return 0;
}

if (args.Length > 0 && args[0] == "scaleout")
{
    return await ScaleOut.RunAsync(args[1..]);
}

if (args.Length == 0 || args[0] != "run")
{
    Console.Error.WriteLine("usage: GatewayBench upstream --url URL | GatewayBench run --upstream URL --upstream-pid PID --key KEY [--admin-token TOKEN] --flare NAME=URL,PID ... [--quick] [--phases memory,latency,stream,throughput]");
    return 2;
}

string upstream = "", key = "";
string? adminToken = null;
var upstreamPid = 0;
var quick = false;
string[] phases = ["memory", "latency", "stream", "throughput"];
var flares = new List<(string Name, string Url, int Pid)>();
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--upstream": upstream = args[++i].TrimEnd('/'); break;
        case "--key": key = args[++i]; break;
        case "--admin-token": adminToken = args[++i]; break;
        case "--upstream-pid": upstreamPid = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--quick": quick = true; break;
        case "--phases": phases = args[++i].Split(','); break;
        case "--flare":
            var spec = args[++i];
            var eq = spec.IndexOf('=');
            var comma = spec.LastIndexOf(',');
            flares.Add((spec[..eq], spec[(eq + 1)..comma].TrimEnd('/'), int.Parse(spec[(comma + 1)..], CultureInfo.InvariantCulture)));
            break;
    }
}

// Phase lengths: every figure printed below comes from these.
int[] rates = [200, 1000];
var rounds = quick ? 1 : 3;
var openSeconds = quick ? 2.0 : 4.0;
var streamRate = 100.0;
var closedSeconds = quick ? 2.0 : 5.0;
int[] memoryCheckpoints = quick ? [2_000, 10_000] : [10_000, 25_000, 50_000, 100_000];

var machineBefore = Proc.MachineBusySeconds();
var oursBefore = OursCpu();
var wallStart = Stopwatch.GetTimestamp();
var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
var direct = new Target("direct", upstream + "/v1", 0, null);
var targets = new List<Target> { direct };
foreach (var (name, url, pid) in flares)
{
    await RegisterAsync(url, upstream + "/v1", key, adminToken);
    targets.Add(new Target(name, url + "/v1", pid, key));
}

foreach (var t in targets)
{
    await Load.WarmUpAsync(t, rounds: 5);
}

Console.WriteLine($"Connections per target: {Load.Connections}. Warm-up: 5 × {Load.Connections} requests per target (a quarter streamed). Phases alternate between targets, each round in a rotated order.");
Console.WriteLine();

if (phases.Contains("memory"))
{
    // 1. Memory: Flare's RSS after 10,000 and 100,000 requests (closed loop, 64 connections), read 3 s after each checkpoint.
    Console.WriteLine($"### Memory: Flare's resident set after N non-streaming requests (closed loop, {Load.Connections} connections; read from /proc/PID/status 3 s after the checkpoint)");
    Console.WriteLine();
    Console.WriteLine("| Flare | requests | VmRSS MiB | RssAnon MiB | VmHWM MiB | req/s while sending | errors |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
    foreach (var t in targets.Where(t => t.IsFlare))
    {
        var done = 0;
        var first = double.NaN;
        var last = double.NaN;
        foreach (var checkpoint in memoryCheckpoints)
        {
            var phase = new Phase(t.Name);
            await Load.ClosedLoopAsync(t, seconds: 600, maxRequests: checkpoint - done, phase);
            done = checkpoint;
            await Task.Delay(3000);
            var rss = Proc.StatusMiB(t.Pid, "VmRSS");
            first = double.IsNaN(first) ? rss : first;
            last = rss;
            Console.WriteLine($"| {t.Name} | {checkpoint:N0} | {rss:F1} | {Proc.StatusMiB(t.Pid, "RssAnon"):F1} | {Proc.StatusMiB(t.Pid, "VmHWM"):F1} | {phase.Throughput:F0} | {phase.Errors} |");
        }

        Console.WriteLine($"| {t.Name}: RSS after {memoryCheckpoints[^1]:N0} / after {memoryCheckpoints[0]:N0} | | **{last / first:P1}** | | | | |");
    }

    Console.WriteLine();
}

if (phases.Contains("latency"))
{
    // 2. Non-streaming latency at a constant arrival rate.
    var latency = new Dictionary<(int Rate, string Target), Phase>();
    foreach (var rate in rates)
    {
        for (var r = 0; r < rounds; r++)
        {
            foreach (var t in Rotate(targets, r))
            {
                var phase = latency.TryGetValue((rate, t.Name), out var p) ? p : latency[(rate, t.Name)] = new Phase(t.Name);
                Load.OpenLoop(t, rate, openSeconds, stream: false, phase);
                await Task.Delay(200);
            }
        }
    }

    Console.WriteLine($"### Non-streaming latency, open loop ({rounds} rounds × {openSeconds:0} s per target and rate, up to {Load.Connections} connections)");
    Console.WriteLine();
    Console.WriteLine("| rate req/s | target | requests | errors | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | Flare CPU µs/req |");
    Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var ((rate, _), p) in latency)
    {
        Console.WriteLine($"| {rate} | {p.Target} | {p.Requests:N0} | {p.Errors} | {p.Throughput:F0} | {Pct(p.Ms, 0.50):F3} | {Pct(p.Ms, 0.90):F3} | {Pct(p.Ms, 0.99):F3} | {p.Ms.Max():F3} | {CpuPerRequest(p)} |");
    }

    Console.WriteLine();
    Console.WriteLine("Added latency = through Flare − direct, at each percentile (targets p50 ≤ 0.5 ms, p99 ≤ 2 ms); Flare's own view is its `x-flare-overhead-ms` header (time to response headers minus the wait on the backend).");
    Console.WriteLine();
    Console.WriteLine("| rate req/s | Flare | added p50 ms | added p90 ms | added p99 ms | x-flare-overhead-ms p50 | p99 |");
    Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
    foreach (var rate in rates)
    {
        var d = latency[(rate, direct.Name)];
        foreach (var t in targets.Where(t => t.IsFlare))
        {
            var f = latency[(rate, t.Name)];
            Console.WriteLine($"| {rate} | {t.Name} | {Added(f.Ms, d.Ms, 0.50)} | {Added(f.Ms, d.Ms, 0.90)} | {Added(f.Ms, d.Ms, 0.99)} | {Pct(f.Overhead, 0.50):F3} | {Pct(f.Overhead, 0.99):F3} |");
        }
    }

    Console.WriteLine();
}

if (phases.Contains("stream"))
{
    // 3. Streaming: time to the first content chunk.
    var ttft = new Dictionary<string, Phase>();
    for (var r = 0; r < rounds; r++)
    {
        foreach (var t in Rotate(targets, r))
        {
            var phase = ttft.TryGetValue(t.Name, out var p) ? p : ttft[t.Name] = new Phase(t.Name);
            Load.OpenLoop(t, streamRate, openSeconds, stream: true, phase);
            await Task.Delay(200);
        }
    }

    Console.WriteLine($"### Streaming TTFT, open loop at {streamRate:0} streams/s ({rounds} rounds × {openSeconds:0} s per target; the upstream sends 4 content chunks 1 ms apart, a usage chunk and [DONE])");
    Console.WriteLine();
    Console.WriteLine("| target | streams | errors | TTFT p50 ms | TTFT p90 ms | TTFT p99 ms | added TTFT p50 ms | added TTFT p99 ms | whole stream p50 ms |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var t in targets)
    {
        var p = ttft[t.Name];
        var d = ttft[direct.Name];
        Console.WriteLine($"| {t.Name} | {p.Requests:N0} | {p.Errors} | {Pct(p.Ttft, 0.50):F3} | {Pct(p.Ttft, 0.90):F3} | {Pct(p.Ttft, 0.99):F3} | {(t.IsFlare ? Added(p.Ttft, d.Ttft, 0.50) : "–")} | {(t.IsFlare ? Added(p.Ttft, d.Ttft, 0.99) : "–")} | {Pct(p.Ms, 0.50):F3} |");
    }

    Console.WriteLine();
}

if (phases.Contains("throughput"))
{
    // 4. Most requests per second over 64 connections, closed loop.
    var closed = new Dictionary<string, Phase>();
    for (var r = 0; r < rounds; r++)
    {
        foreach (var t in Rotate(targets, r))
        {
            var phase = closed.TryGetValue(t.Name, out var p) ? p : closed[t.Name] = new Phase(t.Name);
            await Load.ClosedLoopAsync(t, closedSeconds, int.MaxValue, phase);
            await Task.Delay(200);
        }
    }

    Console.WriteLine($"### Throughput, closed loop, {Load.Connections} connections ({rounds} rounds × {closedSeconds:0} s per target; target ≥ 95% of direct)");
    Console.WriteLine();
    Console.WriteLine("| target | requests | errors | req/s | % of direct | p50 ms | p99 ms | Flare CPU µs/req |");
    Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
    foreach (var t in targets)
    {
        var p = closed[t.Name];
        Console.WriteLine($"| {t.Name} | {p.Requests:N0} | {p.Errors} | {p.Throughput:F0} | {p.Throughput / closed[direct.Name].Throughput:P1} | {Pct(p.Ms, 0.50):F3} | {Pct(p.Ms, 0.99):F3} | {CpuPerRequest(p)} |");
    }

}

var wall = Stopwatch.GetElapsedTime(wallStart).TotalSeconds;
var busy = Proc.MachineBusySeconds() - machineBefore;
var ours = OursCpu() - oursBefore;
var cores = File.ReadLines("/proc/stat").Count(l => l.StartsWith("cpu", StringComparison.Ordinal) && char.IsDigit(l[3]));
Console.WriteLine($"Machine during the run: {wall:F0} s wall, {cores} cores; CPU busy {busy:F0} core-seconds in all, of which {ours:F0} by the bench's processes (load generator, upstream, Flare) and {busy - ours:F0} ({(busy - ours) / (wall * cores):P0} of the machine) by other processes. /proc/loadavg before: {loadBefore}; after: {File.ReadAllText("/proc/loadavg").Trim()}.");

foreach (var t in targets)
{
    t.Dispose();
}

return 0;

double OursCpu() => Proc.CpuSeconds(Environment.ProcessId) + Proc.CpuSeconds(upstreamPid) + flares.Sum(f => Proc.CpuSeconds(f.Pid));

static IEnumerable<Target> Rotate(List<Target> list, int by) => list.Skip(by % list.Count).Concat(list.Take(by % list.Count));

static double Pct(List<double> values, double p) => Stats.Pct(values, p);

static string Added(List<double> flare, List<double> direct, double p) => (Pct(flare, p) - Pct(direct, p)).ToString("+0.000;-0.000", CultureInfo.InvariantCulture);

static string CpuPerRequest(Phase p) => p.CpuSeconds > 0 ? (p.CpuSeconds * 1e6 / (p.Requests - p.Errors)).ToString("F0", CultureInfo.InvariantCulture) : "–";

// Registers the fast upstream as the one deployment of model "bench" and waits until Flare routes to it.
static async Task RegisterAsync(string flare, string upstreamV1, string key, string? adminToken)
{
    using var http = new HttpClient { BaseAddress = new Uri(flare + "/"), Timeout = TimeSpan.FromSeconds(30) };
    if (adminToken is not null)
    {
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
    }

    var modelId = await ScaleOut.CreateBenchModelAsync(http);
    await ScaleOut.CreateBenchDeploymentAsync(http, modelId, "fast-upstream", upstreamV1);

    var deadline = Stopwatch.GetTimestamp() + 20 * Stopwatch.Frequency;
    using var probe = new Target("probe", flare + "/v1", 0, key);
    while (Stopwatch.GetTimestamp() < deadline)
    {
        if ((await Load.SendAsync(probe, stream: false)).Ok)
        {
            return;
        }

        await Task.Delay(100);
    }

    throw new TimeoutException($"{flare} did not serve model 'bench' within 20 s of registering it.");
}
