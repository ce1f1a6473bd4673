using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Flare.Tests.Support;

/// <summary>Flare's real host on an in-memory server, with its own SQLite file in a temp folder.</summary>
public sealed class FlareWebFactory(bool demo = false) : WebApplicationFactory<Program>
{
    private readonly TempDirectory _dir = new();

    public string DataDirectory => _dir.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Flare:DataDirectory", _dir.Path);
        builder.UseSetting("Flare:Demo", demo ? "true" : "false");
        builder.UseSetting("Flare:HostEmulator", "false");
        builder.UseSetting("Flare:DemoTrafficPerSecond", "0");
        builder.UseEnvironment("Testing");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }
}
