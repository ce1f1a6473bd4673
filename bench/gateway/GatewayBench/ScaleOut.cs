using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Flare.Bench.Gateway;

/// <summary>
/// Requests/s of one Flare host and of several sharing one PostgreSQL database, in front of the same emulated fleet, at
/// the same concurrency (<see cref="Load.Connections"/> connections, closed loop, small non-streaming chat completions),
/// with the emulator directly as the baseline; phases interleaved, each round in a rotated order. bench/scaleout/run.sh
/// starts the processes and calls:
///   GatewayBench scaleout --key KEY --admin-token TOKEN --emulator URL --emulator-pid PID --postgres-pid PID
///       --backend NAME [--backend NAME ...] --flare NAME=URL,PID [--flare ...] [--seconds S] [--rounds R]
/// It registers a deployment per emulator backend (model "bench") through the first Flare; the others hear of them
/// through PostgreSQL. "one host" sends every connection to the first Flare, "N hosts" spreads them over all.
/// </summary>
internal static class ScaleOut
{
    public static async Task<int> RunAsync(string[] args)
    {
        string key = "", adminToken = "", emulator = "";
        int emulatorPid = 0, postgresPid = 0, rounds = 3;
        var seconds = 10.0;
        var backends = new List<string>();
        var flares = new List<(string Name, string Url, int Pid)>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--key": key = args[++i]; break;
                case "--admin-token": adminToken = args[++i]; break;
                case "--emulator": emulator = args[++i].TrimEnd('/'); break;
                case "--emulator-pid": emulatorPid = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--postgres-pid": postgresPid = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--backend": backends.Add(args[++i]); break;
                case "--seconds": seconds = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--flare":
                    var spec = args[++i];
                    var eq = spec.IndexOf('=');
                    var comma = spec.LastIndexOf(',');
                    flares.Add((spec[..eq], spec[(eq + 1)..comma].TrimEnd('/'), int.Parse(spec[(comma + 1)..], CultureInfo.InvariantCulture)));
                    break;
                default:
                    Console.Error.WriteLine($"scaleout: unknown argument {args[i]}");
                    return 2;
            }
        }

        if (flares.Count < 2 || backends.Count == 0)
        {
            Console.Error.WriteLine("scaleout needs at least two --flare hosts and one --backend");
            return 2;
        }

        var loadBefore = File.ReadAllText("/proc/loadavg").Trim();
        var machineBefore = Proc.MachineBusySeconds();
        var wallStart = Stopwatch.GetTimestamp();

        await RegisterAsync(flares[0].Url, adminToken, emulator, backends);
        var hosts = flares.Select(f => new Target(f.Name, f.Url + "/v1", f.Pid, key)).ToList();
        foreach (var host in hosts)
        {
            await WaitUntilServingAsync(host);
        }

        // The emulator directly: the same backends, the connections spread over them as Flare spreads requests.
        var direct = backends.Select(b => new Target("direct", $"{emulator}/{b}/v1", 0, null)).ToList();
        var setups = new List<(string Name, List<Target> Targets)>
        {
            ("emulator directly", direct),
            ("1 Flare host", [hosts[0]]),
            ($"{hosts.Count} Flare hosts", hosts),
        };
        foreach (var (_, targets) in setups)
        {
            foreach (var t in targets)
            {
                await Load.WarmUpAsync(t, rounds: 3);
            }
        }

        var results = setups.ToDictionary(s => s.Name, s => new Result(new Phase(s.Name)));
        for (var r = 0; r < rounds; r++)
        {
            foreach (var (name, targets) in setups.Skip(r % setups.Count).Concat(setups.Take(r % setups.Count)))
            {
                var result = results[name];
                var (emu, pg, gen, machine) = (Proc.CpuSeconds(emulatorPid), Proc.TreeCpuSeconds(postgresPid), Proc.CpuSeconds(Environment.ProcessId), Proc.MachineBusySeconds());
                await Load.ClosedLoopAsync(targets, seconds, int.MaxValue, result.Phase);
                result.MachineBusy += Proc.MachineBusySeconds() - machine;
                result.EmulatorCpu += Proc.CpuSeconds(emulatorPid) - emu;
                result.PostgresCpu += Proc.TreeCpuSeconds(postgresPid) - pg;
                result.GeneratorCpu += Proc.CpuSeconds(Environment.ProcessId) - gen;
                await Task.Delay(500);
            }
        }

        var one = results[setups[1].Name].Phase.Throughput;
        Console.WriteLine($"### Requests/s, closed loop, {Load.Connections} connections ({rounds} rounds × {seconds:0} s per setup, interleaved; target: {hosts.Count} hosts ≥ 1.8 × 1 host)");
        Console.WriteLine();
        Console.WriteLine("| setup | requests | errors | req/s | × 1 host | p50 ms | p99 ms | CPU s: Flare | emulator | PostgreSQL | load generator | machine busy |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, _) in setups)
        {
            var res = results[name];
            var p = res.Phase;
            var times = name == setups[0].Name ? "–" : (p.Throughput / one).ToString("0.00", CultureInfo.InvariantCulture);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {p.Requests:N0} | {p.Errors} | {p.Throughput:F0} | {times} | {Stats.Pct(p.Ms, 0.50):F2} | {Stats.Pct(p.Ms, 0.99):F2} | {p.CpuSeconds:F1} | {res.EmulatorCpu:F1} | {res.PostgresCpu:F1} | {res.GeneratorCpu:F1} | {res.MachineBusy / (p.Seconds * Environment.ProcessorCount):P0} |"));
        }

        Console.WriteLine();
        var wall = Stopwatch.GetElapsedTime(wallStart).TotalSeconds;
        var busy = Proc.MachineBusySeconds() - machineBefore;
        var cores = Environment.ProcessorCount;
        var measured = results.Values.Sum(r => r.Phase.Seconds);
        var ours = results.Values.Sum(r => r.Phase.CpuSeconds + r.EmulatorCpu + r.PostgresCpu + r.GeneratorCpu);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Machine: {cores} cores; {wall:F0} s wall, {measured:F0} s of it measured; CPU busy {busy:F0} core-seconds in all, {ours:F0} of them by this benchmark's processes in the measured phases ({ours / (measured * cores):P0} of the machine while measuring). /proc/loadavg before: {loadBefore}; after: {File.ReadAllText("/proc/loadavg").Trim()}."));
        var spread = results[setups[2].Name];
        var spreadBusy = spread.MachineBusy / (spread.Phase.Seconds * cores);
        if (spreadBusy >= 0.9)
        {
            var ownShare = (spread.Phase.CpuSeconds + spread.EmulatorCpu + spread.PostgresCpu + spread.GeneratorCpu) / spread.MachineBusy;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"While {hosts.Count} hosts were measured the machine's {cores} cores were {spreadBusy:P0} busy ({ownShare:P0} of it this benchmark's processes: the load generator, the emulator, PostgreSQL and the Flare hosts). The machine is the limit, not one Flare host: more hosts cannot add throughput here, and this run does not measure scale-out. That needs cores to spare — each host, the generator and the emulator on their own (bench/scaleout/run.sh, SCALEOUT_PIN=1)."));
        }

        foreach (var t in hosts.Concat(direct))
        {
            t.Dispose();
        }

        return 0;
    }

    /// <summary>Registers model "bench" (8B, $0.1/$0.2 per M tokens) through <paramref name="http"/>'s /api; returns its id.</summary>
    internal static async Task<int> CreateBenchModelAsync(HttpClient http)
    {
        var model = await http.PostAsJsonAsync("api/models", new
        {
            name = "bench",
            family = "bench",
            parameterCountBillions = 8,
            contextLength = 8192,
            inputPricePerMTokUsd = 0.1,
            outputPricePerMTokUsd = 0.2,
        });
        model.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await model.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt32();
    }

    /// <summary>Registers model "bench" with a deployment per emulator backend through <paramref name="flare"/>'s /api.</summary>
    private static async Task RegisterAsync(string flare, string adminToken, string emulator, List<string> backends)
    {
        using var http = new HttpClient { BaseAddress = new Uri(flare + "/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminToken);
        var modelId = await CreateBenchModelAsync(http);
        foreach (var backend in backends)
        {
            await CreateBenchDeploymentAsync(http, modelId, $"emulated-{backend}", $"{emulator}/{backend}/v1");
        }
    }

    /// <summary>Registers an API deployment of the bench model at <paramref name="baseUrl"/>, with room for any load.</summary>
    internal static async Task CreateBenchDeploymentAsync(HttpClient http, int modelId, string name, string baseUrl)
    {
        var deployment = await http.PostAsJsonAsync("api/deployments", new
        {
            name,
            modelId,
            kind = "Api",
            baseUrl,
            servedModelName = "bench-served",
            gpuCount = 0,
            tensorParallel = 1,
            maxConcurrency = 100_000,
        });
        if (!deployment.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/deployments: {(int)deployment.StatusCode} {await deployment.Content.ReadAsStringAsync()}");
        }
    }

    private static async Task WaitUntilServingAsync(Target host)
    {
        var deadline = Stopwatch.GetTimestamp() + 20 * Stopwatch.Frequency;
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if ((await Load.SendAsync(host, stream: false)).Ok)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{host.Name} ({host.BaseUrl}) did not serve model 'bench' within 20 s of its registration.");
    }

    /// <summary>One setup's samples and the CPU the other processes spent while it ran.</summary>
    private sealed class Result(Phase phase)
    {
        public Phase Phase { get; } = phase;
        public double EmulatorCpu { get; set; }
        public double PostgresCpu { get; set; }
        public double GeneratorCpu { get; set; }
        public double MachineBusy { get; set; }
    }
}
