using System.Net;
using Flare.Data.Registry;
using Flare.Emulator.Hosting;
using Flare.Emulator.Profiles;
using Flare.Routing.Registry;
using Microsoft.Extensions.Options;

namespace Flare.Web.Hosting;

public static class EmulatorHosting
{
    /// <summary>Flare's LLM emulator in-process, serving the registry's emulated deployments over real HTTP.</summary>
    public static void AddFlareEmulator(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EmulatorFleet>(sp => new EmulatorFleet(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<InProcessEmulator>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<InProcessEmulator>());
    }
}

/// <summary>
/// Runs the emulator on <see cref="FlareOptions.EmulatorBaseUrl"/>'s port and keeps its backends in step
/// with the registry: every enabled emulated deployment whose base URL is <c>{EmulatorBaseUrl}/{name}/v1</c>
/// gets a backend named <c>{name}</c>, following its chosen profile (or the closest to its model and GPUs)
/// with its configured faults.
/// </summary>
public sealed partial class InProcessEmulator(
    EmulatorFleet fleet,
    RegistryStore registry,
    RegistryChangeSignal changes,
    IOptions<FlareOptions> options,
    ILogger<InProcessEmulator> log) : IHostedService, IAsyncDisposable
{
    private readonly SemaphoreSlim _sync = new(1, 1);
    private RunningEmulatorServer? _server;

    /// <summary>Whether the emulator is listening (false when switched off or its port was taken).</summary>
    public bool IsRunning => _server is not null;

    public Uri? BaseAddress => _server?.BaseAddress;

    public async Task StartAsync(CancellationToken ct)
    {
        if (!options.Value.HostEmulator)
        {
            return;
        }

        var baseUri = new Uri(options.Value.EmulatorBaseUrl);
        if (!IPAddress.TryParse(baseUri.Host, out var ip) || !IPAddress.IsLoopback(ip))
        {
            LogNotLoopback(options.Value.EmulatorBaseUrl);
            return;
        }

        try
        {
            _server = await EmulatorServer.StartAsync(fleet, baseUri.Port, ct);
        }
        catch (IOException ex)
        {
            LogPortTaken(ex, baseUri.Port);
            return;
        }

        LogStarted(_server.BaseAddress);
        changes.Changed += OnRegistryChanged;
        await SyncAsync(ct);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        changes.Changed -= OnRegistryChanged;
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    private void OnRegistryChanged() => _ = SyncAsync(CancellationToken.None);

    /// <summary>Adds, retunes and removes backends so they match the registry's emulated deployments.</summary>
    public async Task SyncAsync(CancellationToken ct)
    {
        await _sync.WaitAsync(ct);
        try
        {
            var prefix = options.Value.EmulatorBaseUrl.TrimEnd('/') + "/";
            var gpus = (await registry.ListGpuTypesAsync(ct)).ToDictionary(g => g.Id);
            var models = (await registry.ListModelsAsync(ct)).ToDictionary(m => m.Id);
            var wanted = new HashSet<string>(StringComparer.Ordinal);
            foreach (var d in await registry.ListDeploymentsAsync(ct))
            {
                if (d.Kind != DeploymentKind.Emulated || !d.Enabled || !d.BaseUrl.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var name = BackendName(d.BaseUrl[prefix.Length..]);
                if (name is null || !models.TryGetValue(d.ModelId, out var model))
                {
                    continue;
                }

                var settings = d.Emulator ?? EmulatorSettings.Default;
                var gpuName = d.GpuTypeId is { } g && gpus.TryGetValue(g, out var gpu) ? gpu.Name : "A100";
                var profile = settings.Profile is { } chosen && EmulatorProfiles.TryGet(chosen, out _)
                    ? chosen
                    : EmulatorProfiles.FindClosest(model.ParameterCountBillions, gpuName, Math.Max(1, d.GpuCount)).Name;
                try
                {
                    fleet.AddOrUpdate(name, new EmulatorBackendOptions
                    {
                        Profile = profile,
                        TimeScale = options.Value.EmulatorTimeScale,
                        Seed = d.Id,
                        ServedModelNames = [d.ServedModelName],
                        Faults = new EmulatorFaultOptions
                        {
                            ErrorRate = settings.ErrorRate,
                            ErrorStatusCode = settings.ErrorStatusCode,
                            SpikeProbability = settings.SpikeProbability,
                            SpikeMs = settings.SpikeMs,
                            FirstTokenStallMs = settings.FirstTokenStallMs,
                            DisconnectProbability = settings.DisconnectProbability,
                            DisconnectAfterTokens = settings.DisconnectAfterTokens,
                        },
                    });
                    wanted.Add(name);
                }
                catch (ArgumentException ex)
                {
                    LogBackendRefused(ex, d.Name);
                }
            }

            foreach (var backend in fleet.Backends.Where(b => !wanted.Contains(b.Name)).ToList())
            {
                fleet.Remove(backend.Name);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogSyncFailed(ex);
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <summary><c>{name}/v1</c> → name (URL-decoded); null when the path has another shape.</summary>
    internal static string? BackendName(string rest)
    {
        var parts = rest.TrimEnd('/').Split('/');
        return parts is [var name, "v1"] && name.Length > 0 ? Uri.UnescapeDataString(name) : null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        _sync.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "LLM emulator listening on {Address} (emulated deployments: latency from measured GPU data, no real model)")]
    private partial void LogStarted(Uri address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LLM emulator not started: port {Port} is in use. Emulated deployments pointing at it will fail until it is free (or set Flare:EmulatorBaseUrl)")]
    private partial void LogPortTaken(Exception ex, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LLM emulator not started: Flare:EmulatorBaseUrl {Url} is not a loopback address")]
    private partial void LogNotLoopback(string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Emulated deployment {Deployment} has settings the emulator refuses")]
    private partial void LogBackendRefused(Exception ex, string deployment);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not bring the emulator in step with the registry")]
    private partial void LogSyncFailed(Exception ex);
}
