using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flare.Emulator.Hosting;

/// <summary>Starts a standalone Kestrel server on the loopback interface that serves an <see cref="EmulatorFleet"/>.</summary>
public static class EmulatorServer
{
    /// <summary>
    /// Starts a server on <c>127.0.0.1:<paramref name="port"/></c> (0 = any free port) serving <paramref name="fleet"/>.
    /// The fleet stays the caller's: disposing the server does not stop the backends.
    /// </summary>
    public static async Task<RunningEmulatorServer> StartAsync(EmulatorFleet fleet, int port = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fleet);
        var app = Build(fleet, builder =>
        {
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new RunningEmulatorServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    internal static WebApplication Build(EmulatorFleet fleet, Action<WebApplicationBuilder> configure)
    {
        var builder = WebApplication.CreateSlimBuilder();
        configure(builder);
        var app = builder.Build();
        app.MapEmulator(fleet);
        return app;
    }
}

/// <summary>A running emulator server; dispose it to stop it.</summary>
public sealed class RunningEmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    internal RunningEmulatorServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    /// <summary>Root of the server, e.g. <c>http://127.0.0.1:5481/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>OpenAI base URL of a backend, e.g. <c>http://127.0.0.1:5481/llama-3-8b@h100x1/v1/</c>.</summary>
    public Uri BackendBaseAddress(string backend) => new(BaseAddress, Uri.EscapeDataString(backend) + "/v1/");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
