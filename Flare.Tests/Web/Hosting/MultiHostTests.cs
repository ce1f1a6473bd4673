using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Flare.Data.Gateway;
using Flare.Routing.Estimation;
using Flare.Tests.Support;
using Flare.Tests.Web.Gateway;
using Flare.Web.Gateway;
using Flare.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Flare.Tests.Web.Hosting;

/// <summary>
/// Two Flare hosts on loopback sharing one real PostgreSQL database (the throwaway cluster ./test.sh starts), in front of
/// the same emulated deployments: what one host is told, the other acts on.
/// </summary>
[Collection(nameof(HostCollection))]
public sealed class MultiHostTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Appends a measured figure to <c>artifacts/multi-host.txt</c> (the tests assert on them; the file keeps them).</summary>
    private static void Record(string line)
    {
        var dir = Path.Combine(Artifacts.RepositoryRoot(), "artifacts");
        Directory.CreateDirectory(dir);
        File.AppendAllText(Path.Combine(dir, "multi-host.txt"), $"{DateTime.UtcNow:u} {line}{Environment.NewLine}");
    }

    private static void History(IServiceCollection services) => services.AddSingleton<IHistoryEstimatorSource>(new PlanRoutingTests.TestHistory());

    /// <summary>Host A (with the emulated backends) and host B, both on one database, stopped together.</summary>
    private sealed class TwoHosts : IAsyncDisposable
    {
        private readonly TempDirectory _dirB = new();

        public GatewayFixture A { get; private set; } = null!;

        public FlareServer B { get; private set; } = null!;

        /// <summary>Host B's client, with the /v1 key (and the admin token on /api).</summary>
        public HttpClient ClientB { get; private set; } = null!;

        /// <param name="db">The database both hosts share.</param>
        /// <param name="args">Settings both hosts are started with, beside the database's.</param>
        public static async Task<TwoHosts> StartAsync(PostgresTestDatabase db, params string[] args)
        {
            var hosts = new TwoHosts { A = await GatewayFixture.StartAsync(History, [.. db.FlareArgs, .. args]) };
            hosts.B = new FlareServer(hosts._dirB.Path, demo: false, [$"--Flare:BootstrapApiKey={GatewayFixture.ClientKey}", "--Flare:Gateway:ProbeIntervalSeconds=0.2", .. db.FlareArgs, .. args])
            {
                ConfigureServices = History,
            };
            await hosts.B.StartAsync(Ct);
            hosts.ClientB = hosts.B.CreateClient();
            hosts.ClientB.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", GatewayFixture.ClientKey);
            return hosts;
        }

        public async ValueTask DisposeAsync()
        {
            ClientB?.Dispose();
            if (B is not null)
            {
                await B.DisposeAsync();
            }

            if (A is not null)
            {
                await A.DisposeAsync();
            }

            _dirB.Dispose();
        }
    }

    [Fact]
    public async Task RegistryEditAndPlanAppliedOnHostA_ReachHostB_Within2Seconds()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var hosts = await TwoHosts.StartAsync(db);
        var (a, b, clientB) = (hosts.A, hosts.B, hosts.ClientB);
        // A registry edit on A reaches B's routing snapshot.
        var watch = Stopwatch.StartNew();
        await a.AddDeploymentAsync("strong", "strong@emu", pricePerMTokUsd: 10);
        var weak = await a.AddDeploymentAsync("weak", "weak@emu", pricePerMTokUsd: 0.1);
        var routingB = b.Services.GetRequiredService<RoutingState>();
        while (!routingB.Snapshot.Deployments.Any(d => d.Id == weak.Id))
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), "host B did not see host A's new deployment within 2 s");
            await Task.Delay(10, Ct);
        }

        var bestQuality = await PlanRoutingTests.ReadyPlanAsync(a, "best-quality");
        var cheaper = await PlanRoutingTests.ReadyPlanAsync(a, "flare", new { qualityWeight = 1, costWeight = 10 });
        await PlanRoutingTests.ActivateAsync(a, bestQuality);
        Assert.Equal(bestQuality, await PlanServedByAsync(clientB, bestQuality));
        Assert.Equal("strong@emu", await DeploymentServedByAsync(clientB));

        // The switch: measured from A's answer to the activation to B's first request routed by the new plan.
        watch.Restart();
        await PlanRoutingTests.ActivateAsync(a, cheaper);
        var propagated = watch.Elapsed;
        Assert.Equal(cheaper, await PlanServedByAsync(clientB, cheaper));
        var total = watch.Elapsed;
        Assert.True(total < TimeSpan.FromSeconds(2), $"host B routed by the new plan {total.TotalMilliseconds:0} ms after host A applied it (activation answered after {propagated.TotalMilliseconds:0} ms)");
        Assert.Equal("weak@emu", await DeploymentServedByAsync(clientB));
        Record($"plan applied on host A → first request routed by it on host B: {total.TotalMilliseconds:0} ms (activation answered after {propagated.TotalMilliseconds:0} ms)");
    }

    [Fact]
    public async Task ProfilingRunStartedOnHostA_RunsExactlyOnce_AndHostBSeesItFinish()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var hosts = await TwoHosts.StartAsync(db);
        var (a, b, clientB) = (hosts.A, hosts.B, hosts.ClientB);
        var deployment = await a.AddDeploymentAsync("llama-8b", "llama-8b@emu");
        var backend = a.Fleet.Backends.Single();
        var before = backend.RequestCount;

        // Two grid cells, 4 measured requests each after one warm-up round: 4 + 1 at concurrency 1; at 2, a probe of the
        // cycle time, 2 warm-ups, 4 measured and at most 2 fillers that keep the last measured ones at 2 in flight.
        var created = await a.Client.PostAsJsonAsync($"/api/deployments/{deployment.Id}/profile/runs",
            new { inputLengths = new[] { 64 }, outputLengths = new[] { 4 }, concurrency = new[] { 1, 2 }, requestsPerCell = 4, warmupRequests = 1 }, Ct);
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var runId = JsonDocument.Parse(await created.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("id").GetInt32();

        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement run;
        while (true)
        {
            run = JsonDocument.Parse(await b.CreateClient().GetStringAsync($"/api/profile-runs/{runId}", Ct)).RootElement;
            if (run.GetProperty("status").GetString() is not ("Queued" or "Running"))
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the run did not finish within 60 s: {run}");
            await Task.Delay(200, Ct);
        }

        Assert.Equal("Completed", run.GetProperty("status").GetString());
        Assert.Equal(8, run.GetProperty("samplesRecorded").GetInt32());
        Assert.Equal(2, run.GetProperty("cellsDone").GetInt32());
        // One run sends 12 to 15 requests; the same run executed on both hosts would have sent at least 24.
        Assert.InRange(backend.RequestCount - before, 12, 15);

        // Both hosts' job servers were polling the one queue; one of them took the job. (The run is stored as completed
        // just before its job returns; Hangfire records the job's success a moment later.)
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var servers = new NpgsqlCommand("SELECT count(*) FROM hangfire.server", connection);
        Assert.Equal(2L, (long)(await servers.ExecuteScalarAsync(Ct))!);
        // Hangfire records Succeeded after the job method returns, a moment after the job wrote Completed on the run.
        await using var succeeded = new NpgsqlCommand("SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded'", connection);
        deadline = DateTime.UtcNow.AddSeconds(5);
        while ((long)(await succeeded.ExecuteScalarAsync(Ct))! == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Equal(1L, (long)(await succeeded.ExecuteScalarAsync(Ct))!);
        await using var jobs = new NpgsqlCommand("SELECT count(*) FROM hangfire.job", connection);
        Assert.Equal(1L, (long)(await jobs.ExecuteScalarAsync(Ct))!);
    }

    /// <summary>
    /// A PORT budget on one deployment, with drop, under concurrent load on both hosts: together they admit about what the
    /// budget pays for, over it by no more than the documented bound ((N − 1) × one host's admissions in two exchange
    /// intervals and two exchanges), where each host alone would have admitted the whole budget again.
    /// </summary>
    [Fact]
    public async Task PortBudgetSharedByBothHosts_IsNotExceededBeyondTheDocumentedBound()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var hosts = await TwoHosts.StartAsync(db);
        var (a, b, clientB) = (hosts.A, hosts.B, hosts.ClientB);
        await a.AddDeploymentAsync("weak", "weak@emu", pricePerMTokUsd: 0.1);
        // One request is estimated at about (10 + 4) tokens × $0.10 per million; the budget pays for 1,500 of them, several
        // seconds of both hosts' traffic, so that the exchange interval is short beside the budget's life, as in use.
        var probe = await a.Client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
        var perRequest = JsonDocument.Parse(await probe.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("usage").GetProperty("total_tokens").GetInt32() * 0.1e-6;
        const int affordable = 1500;
        var port = await PlanRoutingTests.ReadyPlanAsync(a, "port", new { budgetUsd = affordable * perRequest, budgetPeriodMinutes = 30, onExhausted = "Drop" });
        await PlanRoutingTests.ActivateAsync(a, port);
        Assert.Equal(port, await PlanServedByAsync(clientB, port, dropIsServed: true));
        var before = await ServedCountAsync(db, port);

        var served = new[] { new List<double>(), new List<double>() };
        var watch = Stopwatch.StartNew();
        async Task LoopAsync(HttpClient client, int host)
        {
            var refusals = 0;
            while (refusals < 20 && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
                if (response.IsSuccessStatusCode)
                {
                    lock (served)
                    {
                        served[host].Add(watch.Elapsed.TotalSeconds);
                    }

                    refusals = 0;
                }
                else
                {
                    Assert.Equal(429, (int)response.StatusCode);
                    refusals++;
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 2).SelectMany(_ => new[] { LoopAsync(a.Client, 0), LoopAsync(clientB, 1) }));

        // The documented bound with what was measured: each host's admission rate while it admitted, and how stale the
        // other's figure could be (two exchange intervals plus two of the longest exchange either host made: one for
        // the other host to write its spending, one for this host to read it).
        double Rate(List<double> times) => times.Count < 2 ? 0 : times.Count / Math.Max(0.001, times[^1] - times[0]);
        var stale = 2 * (PostgresLedger.ExchangeInterval + new[] { a.Flare, b }
            .Select(h => h.Services.GetRequiredService<PostgresLedger>().LongestExchange).Max());
        var bound = Math.Ceiling(Math.Max(Rate(served[0]), Rate(served[1])) * stale.TotalSeconds) + 1;
        var total = served[0].Count + served[1].Count + before;
        Record(
            $"PORT budget shared by 2 hosts: served {served[0].Count} + {served[1].Count} (+{before} before) of an affordable {affordable}; bound {bound} (stale ≤ {stale.TotalMilliseconds:0} ms)");
        Assert.True(total >= affordable - 2, $"only {total} of an affordable {affordable} were served");
        Assert.True(total <= affordable + bound, $"{total} served: over the budget's {affordable} by more than the bound {bound} (stale ≤ {stale.TotalMilliseconds:0} ms)");
        // Each host alone would have admitted the whole budget: together they stayed far from twice it.
        Assert.True(total <= 1.5 * affordable, $"{total} served of an affordable {affordable}: the hosts did not share the budget");
        Assert.True(served[0].Count > 0 && served[1].Count > 0, "both hosts served some");
    }

    /// <summary>
    /// A key limited to 600 requests a minute, requests looping on both hosts: together they admit what the key's one
    /// bucket holds and refills, over it by no more than the documented bound (what one host admitted in two exchange
    /// intervals and two exchanges, unseen by the other), where each host alone would have admitted as much again.
    /// </summary>
    [Fact]
    public async Task KeyRateLimitSharedByBothHosts_IsNotExceededBeyondTheDocumentedBound()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var hosts = await TwoHosts.StartAsync(db);
        var (a, b) = (hosts.A, hosts.B);
        await a.AddDeploymentAsync("weak", "weak@emu");
        const int perMinute = 600;
        var key = (await a.Flare.Services.GetRequiredService<ApiKeyStore>().CreateAsync("shared limit", perMinute, null, Ct)).Value!;
        using var keyedA = Keyed(a.Flare, key.Secret);
        using var keyedB = Keyed(b, key.Secret);
        // Host B hears of the key and the deployment through the relay; listing models takes nothing from the bucket.
        foreach (var client in new[] { keyedA, keyedB })
        {
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (!(await client.GetAsync("/v1/models", Ct) is { IsSuccessStatusCode: true } models && (await models.Content.ReadAsStringAsync(Ct)).Contains("\"weak\"")))
            {
                Assert.True(DateTime.UtcNow < deadline, "a host did not know the new key and deployment within 5 s");
                await Task.Delay(20, Ct);
            }
        }

        var admitted = new[] { new List<double>(), new List<double>() };
        var watch = Stopwatch.StartNew();
        var loopFor = TimeSpan.FromSeconds(6);
        async Task LoopAsync(HttpClient client, int host)
        {
            while (watch.Elapsed < loopFor)
            {
                using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat("weak"), Ct);
                if ((int)response.StatusCode == 429)
                {
                    // What a client does with Retry-After, shortened: the test wants both hosts asking all the time.
                    await Task.Delay(5, Ct);
                    continue;
                }

                Assert.Equal(200, (int)response.StatusCode);
                lock (admitted)
                {
                    admitted[host].Add(watch.Elapsed.TotalSeconds);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 2).SelectMany(_ => new[] { LoopAsync(keyedA, 0), LoopAsync(keyedB, 1) }));
        var seconds = watch.Elapsed.TotalSeconds;

        // The bucket held a minute's worth when the loops began and refilled at perMinute / 60 a second while they ran.
        var allowed = perMinute + perMinute / 60.0 * seconds;
        // The documented bound with what was measured: the most one host admitted within any stretch as long as the other's
        // view of it could be stale (two exchange intervals plus two of the longest exchange either host made).
        var stale = 2 * (PostgresLedger.ExchangeInterval + new[] { a.Flare, b }
            .Select(h => h.Services.GetRequiredService<PostgresLedger>().LongestExchange).Max());
        var bound = admitted.Max(times => MostWithin(times, stale.TotalSeconds)) + 1;
        var total = admitted[0].Count + admitted[1].Count;
        Record(
            $"rate limit {perMinute}/min shared by 2 hosts over {seconds:0.0} s: admitted {admitted[0].Count} + {admitted[1].Count} of an allowed {allowed:0}; bound {bound} (stale ≤ {stale.TotalMilliseconds:0} ms)");
        Assert.True(total <= allowed + bound, $"{total} admitted: over the {allowed:0} the key allows by more than the bound {bound} (stale ≤ {stale.TotalMilliseconds:0} ms)");
        Assert.True(total >= 0.95 * allowed, $"only {total} admitted of the {allowed:0} the key allows: the hosts refused what the bucket held");
        // Each host alone would have admitted the whole allowance: together they stayed far from twice it.
        Assert.True(total <= 1.5 * allowed, $"{total} admitted of an allowed {allowed:0}: the hosts did not share the key's bucket");
        Assert.True(admitted[0].Count > 0 && admitted[1].Count > 0, "both hosts admitted some");
    }

    /// <summary>
    /// A deployment goes down: the host that does not probe takes it out and says so, and the probing host — which never
    /// saw it fail — probes it for both, on the ejection schedule; then the probing host takes it out too, the deployment
    /// comes back, and one probe brings it back on both hosts.
    /// </summary>
    [Fact]
    public async Task HealthProbes_SentByOneHostForBoth_AndBothTakeTheDeploymentBack()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var backend = await SwitchableBackend.StartAsync();
        await using var hosts = await TwoHosts.StartAsync(db, "--Flare:Gateway:FailuresToEject=1", "--Flare:Gateway:EjectSeconds=0.5");
        var (deployment, prober, other, proberClient, otherClient) = await FlakyDeploymentAsync(hosts, backend);

        backend.Down = true;
        Assert.True((int)(await otherClient.PostAsJsonAsync("/v1/chat/completions", Chat("flaky"), Ct)).StatusCode >= 500);
        Assert.True(State(other, deployment.Id).IsEjected);
        var proberBefore = Prober(prober).ProbesSent;
        var probesBefore = backend.ProbeTimes.Count;
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);

        var probes = backend.ProbeTimes.Skip(probesBefore).ToArray();
        var sentByProber = Prober(prober).ProbesSent - proberBefore;
        Assert.False(State(prober, deployment.Id).IsEjected);
        Assert.Equal(0, Prober(other).ProbesSent);
        Assert.InRange(probes.Length, 2, 6);
        Assert.InRange(sentByProber, probes.Length, probes.Length + 1); // one may still be on its way
        // One host probing on the 0.5 s schedule: never two probes closer than that (two hosts would interleave theirs).
        var gaps = probes.Zip(probes.Skip(1), (x, y) => y - x).ToArray();
        Assert.All(gaps, gap => Assert.True(gap >= 0.45, $"probes {gap:0.000} s apart: {string.Join(", ", gaps.Select(g => g.ToString("0.000")))}"));
        Record($"health: down for 2.5 s, out on one host: {probes.Length} probes, all from the probing host, gaps {string.Join(" ", gaps.Select(g => g.ToString("0.00")))} s");

        Assert.True((int)(await proberClient.PostAsJsonAsync("/v1/chat/completions", Chat("flaky"), Ct)).StatusCode >= 500);
        Assert.True(State(prober, deployment.Id).IsEjected);
        backend.Down = false;
        var watch = Stopwatch.StartNew();
        while (State(prober, deployment.Id).IsEjected || State(other, deployment.Id).IsEjected)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), "the deployment was not back on both hosts within 3 s of answering again");
            await Task.Delay(10, Ct);
        }

        Record($"health: back on both hosts {watch.Elapsed.TotalMilliseconds:0} ms after the deployment answered again");
        Assert.Equal(200, (int)(await proberClient.PostAsJsonAsync("/v1/chat/completions", Chat("flaky"), Ct)).StatusCode);
        Assert.Equal(200, (int)(await otherClient.PostAsJsonAsync("/v1/chat/completions", Chat("flaky"), Ct)).StatusCode);
        Assert.Equal(0, Prober(other).ProbesSent);
    }

    /// <summary>The probing host stops: the other takes over probing within a few intervals, and brings a deployment back.</summary>
    [Fact]
    public async Task HealthProbes_TakenOverByTheOtherHost_WhenTheProbingHostStops()
    {
        await using var db = PostgresTestDatabase.Create();
        await using var backend = await SwitchableBackend.StartAsync();
        await using var hosts = await TwoHosts.StartAsync(db, "--Flare:Gateway:FailuresToEject=1", "--Flare:Gateway:EjectSeconds=0.5");
        var (deployment, prober, other, _, otherClient) = await FlakyDeploymentAsync(hosts, backend);
        var leadership = other.Services.GetRequiredService<IProbeLeadership>();

        var watch = Stopwatch.StartNew();
        await prober.StopAsync();
        while (!leadership.IsLeader)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), "the remaining host did not take over probing within 3 s");
            await Task.Delay(10, Ct);
        }

        Record($"health: the remaining host took over probing {watch.Elapsed.TotalMilliseconds:0} ms after the probing host began to stop");
        backend.Down = true;
        Assert.True((int)(await otherClient.PostAsJsonAsync("/v1/chat/completions", Chat("flaky"), Ct)).StatusCode >= 500);
        Assert.True(State(other, deployment.Id).IsEjected);
        var probesBefore = backend.ProbeTimes.Count;
        await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        Assert.True(backend.ProbeTimes.Count > probesBefore, "nobody probed the deployment");
        backend.Down = false;
        watch.Restart();
        while (State(other, deployment.Id).IsEjected)
        {
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), "the deployment was not back within 3 s of answering again");
            await Task.Delay(10, Ct);
        }

        Assert.Equal(200, (int)(await otherClient.PostAsJsonAsync("/v1/chat/completions", Chat("flaky"), Ct)).StatusCode);
    }

    /// <summary>Two hosts start at the same moment on a database that does not exist yet, both with the demo on: both come
    /// up, and the demo fleet and its API key exist once.</summary>
    [Fact]
    public async Task TwoHostsStartingAtOnceOnAnEmptyDatabase_BothComeUp_AndSeedTheDemoOnce()
    {
        await using var db = PostgresTestDatabase.Create();
        using var dirA = new TempDirectory();
        using var dirB = new TempDirectory();
        await using var a = new FlareServer(dirA.Path, demo: true, db.FlareArgs);
        await using var b = new FlareServer(dirB.Path, demo: true, db.FlareArgs);

        await Task.WhenAll(Task.Run(() => a.StartAsync(Ct), Ct), Task.Run(() => b.StartAsync(Ct), Ct));

        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(Ct);
        async Task<long> CountAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return (long)(await command.ExecuteScalarAsync(Ct))!;
        }

        var deployments = await CountAsync("""SELECT count(*) FROM "Deployments" """);
        Assert.True(deployments > 0, "the demo fleet was not seeded");
        Assert.Equal(deployments, await CountAsync("""SELECT count(DISTINCT "Name") FROM "Deployments" """));
        Assert.Equal(await CountAsync("""SELECT count(DISTINCT "Name") FROM "Models" """), await CountAsync("""SELECT count(*) FROM "Models" """));
        Assert.Equal(1, await CountAsync($"""SELECT count(*) FROM "InstallationFacts" WHERE "Key" = '{Flare.Data.Demo.DemoFleet.SeededFactKey}' AND "Value" = 'seeded'"""));
        Assert.Equal(1, await CountAsync("""SELECT count(*) FROM "ApiKeys" WHERE "Name" = 'demo'"""));
        foreach (var host in new[] { a, b })
        {
            using var client = host.CreateClient();
            Assert.Equal(deployments, JsonDocument.Parse(await client.GetStringAsync("/api/deployments", Ct)).RootElement.GetArrayLength());
        }
    }

    /// <summary>The most of <paramref name="times"/> (sorted, in seconds) that fall within any stretch of <paramref name="window"/> seconds.</summary>
    private static int MostWithin(List<double> times, double window)
    {
        var most = 0;
        for (int first = 0, last = 0; last < times.Count; last++)
        {
            while (times[last] - times[first] > window)
            {
                first++;
            }

            most = Math.Max(most, last - first + 1);
        }

        return most;
    }

    private static HttpClient Keyed(FlareServer host, string secret)
    {
        var client = host.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        return client;
    }

    private static HealthProber Prober(FlareServer host) => host.Services.GetRequiredService<HealthProber>();

    private static Flare.Routing.Routing.DeploymentState State(FlareServer host, int deploymentId) =>
        host.Services.GetRequiredService<RoutingState>().State(deploymentId);

    /// <summary>
    /// Deployment "flaky" on <paramref name="backend"/>, added through host A and routed on both; the host that probes and
    /// the one that does not, each with its /v1 client.
    /// </summary>
    private static async Task<(Flare.Data.Registry.DeploymentView Deployment, FlareServer Prober, FlareServer Other, HttpClient ProberClient, HttpClient OtherClient)>
        FlakyDeploymentAsync(TwoHosts hosts, SwitchableBackend backend)
    {
        var deployment = await hosts.A.AddDeploymentAsync("flaky", "flaky@backend", baseUrl: backend.BaseUrl);
        var (prober, other) = await ProbingAndOtherAsync(hosts.A.Flare, hosts.B);
        var (proberClient, otherClient) = prober == hosts.A.Flare ? (hosts.A.Client, hosts.ClientB) : (hosts.ClientB, hosts.A.Client);
        await WaitUntilRoutedAsync(other, deployment.Id);
        return (deployment, prober, other, proberClient, otherClient);
    }

    /// <summary>The host that probes and the one that does not, once one of them holds the lock (within 5 s of start).</summary>
    private static async Task<(FlareServer Prober, FlareServer Other)> ProbingAndOtherAsync(FlareServer a, FlareServer b)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            var (leadsA, leadsB) = (a.Services.GetRequiredService<IProbeLeadership>().IsLeader, b.Services.GetRequiredService<IProbeLeadership>().IsLeader);
            Assert.False(leadsA && leadsB, "both hosts probe");
            if (leadsA || leadsB)
            {
                return leadsA ? (a, b) : (b, a);
            }

            Assert.True(DateTime.UtcNow < deadline, "neither host took the probes' lock within 5 s");
            await Task.Delay(20, Ct);
        }
    }

    private static async Task WaitUntilRoutedAsync(FlareServer host, int deploymentId)
    {
        var routing = host.Services.GetRequiredService<RoutingState>();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!routing.Snapshot.Deployments.Any(d => d.Id == deploymentId))
        {
            Assert.True(DateTime.UtcNow < deadline, "the host did not see the new deployment within 5 s");
            await Task.Delay(10, Ct);
        }
    }

    /// <summary>
    /// An OpenAI-compatible backend on loopback that a test switches down (503 to everything, the health probe included)
    /// and up; it notes when each probe (<c>GET /v1/models</c>) arrived.
    /// </summary>
    private sealed class SwitchableBackend : IAsyncDisposable
    {
        private static readonly byte[] Completion = """{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"flaky","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"total_tokens":12}}"""u8.ToArray();
        private static readonly byte[] Models = """{"object":"list","data":[{"id":"flaky","object":"model","created":0,"owned_by":"test"}]}"""u8.ToArray();

        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly List<double> _probes = [];
        private Microsoft.AspNetCore.Builder.WebApplication _app = null!;

        public volatile bool Down;

        public string BaseUrl { get; private set; } = "";

        /// <summary>When each probe arrived, in seconds since the backend started.</summary>
        public IReadOnlyList<double> ProbeTimes
        {
            get
            {
                lock (_probes)
                {
                    return [.. _probes];
                }
            }
        }

        public static async Task<SwitchableBackend> StartAsync()
        {
            var backend = new SwitchableBackend();
            var builder = Microsoft.AspNetCore.Builder.WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            app.MapGet("/v1/models", (HttpContext http) =>
            {
                lock (backend._probes)
                {
                    backend._probes.Add(backend._clock.Elapsed.TotalSeconds);
                }

                return backend.AnswerAsync(http, Models);
            });
            app.MapPost("/v1/chat/completions", async (HttpContext http) =>
            {
                await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
                await backend.AnswerAsync(http, Completion);
            });
            await app.StartAsync(Ct);
            backend._app = app;
            backend.BaseUrl = app.Urls.First().TrimEnd('/') + "/v1";
            return backend;
        }

        private Task AnswerAsync(HttpContext http, byte[] body)
        {
            if (Down)
            {
                http.Response.StatusCode = 503;
                return Task.CompletedTask;
            }

            http.Response.ContentType = "application/json";
            return http.Response.Body.WriteAsync(body).AsTask();
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    private static async Task<long> ServedCountAsync(PostgresTestDatabase db, long plan)
    {
        await Task.Delay(300, Ct); // the request log is written in batches
        await using var connection = new NpgsqlConnection(db.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM \"RequestLog\" WHERE \"PlanVersion\" = @plan AND \"Status\" = 200", connection);
        count.Parameters.AddWithValue("plan", plan);
        return (long)(await count.ExecuteScalarAsync(Ct))!;
    }

    private static object Chat(string model = "flare") => new { model, max_tokens = 4, ignore_eos = true, messages = new[] { new { role = "user", content = "Say hello to the fleet." } } };

    /// <summary>Sends requests to "flare" until one is routed by <paramref name="plan"/> (for up to 5 s); returns the plan the last was routed by.</summary>
    private static async Task<long> PlanServedByAsync(HttpClient client, long plan, bool dropIsServed = false)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
            Assert.True(response.IsSuccessStatusCode || (dropIsServed && (int)response.StatusCode == 429), await response.Content.ReadAsStringAsync(Ct));
            var served = long.TryParse(response.Headers.GetValues("x-flare-plan").First(), out var v) ? v : 0;
            if (served == plan || DateTime.UtcNow > deadline)
            {
                return served;
            }

            await Task.Delay(10, Ct);
        }
    }

    private static async Task<string> DeploymentServedByAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/v1/chat/completions", Chat(), Ct);
        return response.Headers.GetValues("x-flare-deployment").First();
    }
}
