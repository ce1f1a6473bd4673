using System.Net.Http.Json;
using Flare.Data.Profiling;
using Flare.Data.Registry;
using Flare.Emulator.Hosting;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Profiling;

/// <summary>
/// Flare on real Kestrel and an emulated deployment on another real Kestrel server (the LLM emulator, sped up by
/// <see cref="TimeScale"/>): profiling runs go over real HTTP, streamed, as they would to vLLM.
/// </summary>
public sealed class ProfilingFixture : IAsyncDisposable
{
    /// <summary>The emulator's speed-up in these tests: latencies are measured in its scaled time.</summary>
    public const double TimeScale = 3;

    public const string Profile = "llama-3-8b@h100x1";

    private readonly TempDirectory _dir;
    private readonly bool _ownsDir;
    private readonly EmulatorFleet _fleet = new();
    private RunningEmulatorServer? _emulator;

    private ProfilingFixture(TempDirectory dir, bool ownsDir)
    {
        _dir = dir;
        _ownsDir = ownsDir;
    }

    public FlareServer Flare { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;
    public string DataDirectory => _dir.Path;
    public EmulatorFleet Fleet => _fleet;
    public RunningEmulatorServer Emulator => _emulator!;
    public RegistryStore Registry => Flare.Services.GetRequiredService<RegistryStore>();
    public ProfilingStore Store => Flare.Services.GetRequiredService<ProfilingStore>();

    public static Task<ProfilingFixture> StartAsync(params string[] flareArgs) => StartAsync(new TempDirectory(), true, flareArgs);

    public static async Task<ProfilingFixture> StartAsync(TempDirectory dir, bool ownsDir, params string[] flareArgs)
    {
        var f = new ProfilingFixture(dir, ownsDir);
        f._emulator = await EmulatorServer.StartAsync(f._fleet);
        f.Flare = new FlareServer(dir.Path, demo: false, flareArgs);
        await f.Flare.StartAsync();
        f.Client = f.Flare.CreateClient();
        return f;
    }

    /// <summary>A GPU type, a model without API prices and an emulated deployment served by a fresh emulator backend.</summary>
    public async Task<DeploymentView> AddDeploymentAsync(string name = "llama-8b@h100", double timeScale = TimeScale, EmulatorFaultOptions? faults = null)
    {
        _fleet.AddOrUpdate(name, new EmulatorBackendOptions { Profile = Profile, TimeScale = timeScale, Seed = 11, Faults = faults ?? EmulatorFaultOptions.None });
        var gpu = (await Registry.ListGpuTypesAsync()).FirstOrDefault()?.Id
            ?? (await Registry.CreateGpuTypeAsync(Samples.A100 with { Name = "H100-80GB", PricePerHourUsd = 2.5, PoolCount = 8 })).Value!.Id;
        var model = (await Registry.ListModelsAsync()).FirstOrDefault()?.Id
            ?? (await Registry.CreateModelAsync(Samples.Llama8B with { InputPricePerMTokUsd = null, OutputPricePerMTokUsd = null })).Value!.Id;
        var outcome = await Registry.CreateDeploymentAsync(new DeploymentInput
        {
            Name = name,
            ModelId = model,
            Kind = DeploymentKind.Emulated,
            BaseUrl = _emulator!.BackendBaseAddress(name).ToString().TrimEnd('/'),
            ServedModelName = "meta-llama/Meta-Llama-3-8B-Instruct",
            GpuTypeId = gpu,
            GpuCount = 1,
            TensorParallel = 1,
            MaxConcurrency = 64,
        });
        Assert.True(outcome.IsOk, outcome.Message + " " + outcome.Errors);
        return outcome.Value!;
    }

    /// <summary>Starts a run over <c>/api</c>.</summary>
    public async Task<ProfileRunView> StartRunAsync(int deploymentId, ProfileSweepSettings settings)
    {
        using var response = await Client.PostAsJsonAsync($"api/deployments/{deploymentId}/profile/runs", settings, Json);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ProfileRunView>(Json))!;
    }

    /// <summary>Waits (bounded) until the run satisfies <paramref name="condition"/>, reading it from the database.</summary>
    public Task<ProfileRunView> WaitForRunAsync(int runId, Func<ProfileRunView, bool> condition, TimeSpan timeout) =>
        WaitForRunAsync(Store, runId, condition, timeout);

    public static async Task<ProfileRunView> WaitForRunAsync(ProfilingStore store, int runId, Func<ProfileRunView, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var run = await store.GetRunAsync(runId);
            Assert.NotNull(run);
            if (condition(run))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Run {runId} did not reach the expected state within {timeout.TotalSeconds:0} s; it is {run.Status} ({run.CellsDone}/{run.CellsTotal} cells, {run.SamplesRecorded} samples). {run.Message}");
            await Task.Delay(50);
        }
    }

    public static readonly System.Text.Json.JsonSerializerOptions Json = new(System.Text.Json.JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (Flare is not null)
        {
            await Flare.DisposeAsync();
        }

        if (_emulator is not null)
        {
            await _emulator.DisposeAsync();
        }

        await _fleet.DisposeAsync();
        if (_ownsDir)
        {
            _dir.Dispose();
        }
    }
}
