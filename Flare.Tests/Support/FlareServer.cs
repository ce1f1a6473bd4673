using Flare.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Support;

/// <summary>
/// Flare's real program on real Kestrel, on a free loopback port, with its data in a folder the test
/// owns and its database on the suite's provider (<see cref="TestProvider"/>), so a test can stop it and start it again
/// on the same database. Settings in the extra arguments win over the provider's (the multi-host tests name one
/// PostgreSQL database for two data directories).
/// </summary>
public sealed class FlareServer : IAsyncDisposable
{
    private readonly string[] _extraArgs;
    private WebApplication? _app;

    public FlareServer(string dataDirectory, bool demo, params string[] extraArgs)
    {
        DataDirectory = dataDirectory;
        Demo = demo;
        _extraArgs = extraArgs;
    }

    /// <summary>Registrations applied after Flare's own (see <see cref="FlareHost.Build"/>); set before <see cref="StartAsync"/>.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    public string DataDirectory { get; }
    public bool Demo { get; }
    public Uri BaseAddress { get; private set; } = null!;
    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("Not started.");

    public async Task StartAsync(CancellationToken ct = default)
    {
        _app = FlareHost.Build([
            "--urls", "http://127.0.0.1:0",
            "--environment", "Testing",
            $"--Flare:DataDirectory={DataDirectory}",
            $"--Flare:Demo={Demo}",
            "--Flare:HostEmulator=false",
            "--Flare:DemoTrafficPerSecond=0",
            .. TestProvider.FlareArgs(DataDirectory),
            .. AdminCredentials.Args,
            .. _extraArgs,
        ], ConfigureServices);
        try
        {
            await _app.StartAsync(ct);
        }
        catch
        {
            await _app.DisposeAsync();
            _app = null;
            throw;
        }

        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.EndsWith('/') ? address : address + "/");
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    /// <summary>A client that is the administrator on <c>/api</c> and <c>/jobs</c> (see <see cref="AdminTokenHandler"/>).</summary>
    public HttpClient CreateClient() => new(new AdminTokenHandler(new SocketsHttpHandler())) { BaseAddress = BaseAddress };

    /// <summary>A client with no credentials at all.</summary>
    public HttpClient CreateAnonymousClient() => new() { BaseAddress = BaseAddress };

    public async ValueTask DisposeAsync() => await StopAsync();
}
