using System.Net.Http.Headers;
using Flare.Data.Registry;
using Flare.Emulator.Hosting;
using Flare.Routing.Registry;
using Flare.Tests.Support;
using Flare.Web.Gateway;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Web.Gateway;

/// <summary>
/// Flare on real Kestrel in front of emulated backends on another real Kestrel server: the whole /v1 path
/// over real HTTP. Each test gets a fresh pair, so faults and health state never leak between tests.
/// </summary>
public sealed class GatewayFixture : IAsyncDisposable
{
    public const string ClientKey = "sk-flare-test-client-key-0123456789";
    private const string Profile = "llama-3-8b@h100x1";

    private readonly TempDirectory _dir = new();
    private readonly EmulatorFleet _fleet = new();
    private RunningEmulatorServer? _emulator;
    private int _gpuId;

    public FlareServer Flare { get; private set; } = null!;

    /// <summary>The emulated backends (one per deployment added).</summary>
    public EmulatorFleet Fleet => _fleet;
    public RegistryStore Store => Flare.Services.GetRequiredService<RegistryStore>();
    public HttpClient Client { get; private set; } = null!;

    public static Task<GatewayFixture> StartAsync(params string[] flareArgs) => StartAsync(null, flareArgs);

    /// <param name="services">Registrations applied after Flare's own (a history estimator of the test's, say).</param>
    public static async Task<GatewayFixture> StartAsync(Action<IServiceCollection>? services, params string[] flareArgs)
    {
        var f = new GatewayFixture();
        f._emulator = await EmulatorServer.StartAsync(f._fleet);
        f.Flare = new FlareServer(f._dir.Path, demo: false, [$"--Flare:BootstrapApiKey={ClientKey}", "--Flare:Gateway:ProbeIntervalSeconds=0.2", .. flareArgs])
        {
            ConfigureServices = services,
        };
        await f.Flare.StartAsync();
        f.Client = f.Flare.CreateClient();
        f.Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ClientKey);
        f._gpuId = (await f.Store.CreateGpuTypeAsync(Samples.A100 with { PoolCount = 16 })).Value!.Id;
        return f;
    }

    /// <summary>Registers a model (once) and an emulated deployment of it served by a fresh emulator backend.</summary>
    /// <param name="pricePerMTokUsd">The model's API price per million tokens, in and out (default: the Llama 8B sample's $0.20).</param>
    public async Task<DeploymentView> AddDeploymentAsync(
        string model, string name, EmulatorFaultOptions? faults = null, string? baseUrl = null, string? apiKey = null, double? pricePerMTokUsd = null)
    {
        _fleet.AddOrUpdate(name, new EmulatorBackendOptions { Profile = Profile, TimeScale = 50, Seed = 7, Faults = faults ?? EmulatorFaultOptions.None });
        var models = await Store.ListModelsAsync();
        var sample = pricePerMTokUsd is { } price ? Samples.Llama8B with { InputPricePerMTokUsd = price, OutputPricePerMTokUsd = price } : Samples.Llama8B;
        var modelId = models.FirstOrDefault(m => m.Name == model)?.Id
            ?? (await Store.CreateModelAsync(sample with { Name = model })).Value!.Id;
        var outcome = await Store.CreateDeploymentAsync(new DeploymentInput
        {
            Name = name,
            ModelId = modelId,
            Kind = DeploymentKind.Emulated,
            BaseUrl = baseUrl ?? _emulator!.BackendBaseAddress(name).ToString().TrimEnd('/'),
            ServedModelName = "served-" + model,
            ApiKey = apiKey,
            GpuTypeId = _gpuId,
            GpuCount = 1,
            TensorParallel = 1,
            MaxConcurrency = 64,
        });
        Assert.True(outcome.IsOk, outcome.Message + " " + outcome.Errors);
        await WaitForSnapshotAsync(s => s.Deployments.Any(d => d.Id == outcome.Value!.Id));
        return outcome.Value!;
    }

    /// <summary>Registry edits reach the data plane asynchronously (off the request path); wait until this one has.</summary>
    public async Task WaitForSnapshotAsync(Func<Flare.Routing.Routing.RoutingSnapshot, bool> condition)
    {
        var routing = Flare.Services.GetRequiredService<RoutingState>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition(routing.Snapshot))
        {
            Assert.True(DateTime.UtcNow < deadline, "The routing snapshot did not pick up the registry change within 10 s.");
            await Task.Delay(20);
        }
    }

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
        _dir.Dispose();
    }
}
