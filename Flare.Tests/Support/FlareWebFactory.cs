using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Flare.Tests.Support;

/// <summary>Flare's real host on an in-memory server, with a temp data folder and a database of its own on the suite's provider.</summary>
public sealed class FlareWebFactory(bool demo = false) : WebApplicationFactory<Program>
{
    private readonly TempDirectory _dir = new();

    public string DataDirectory => _dir.Path;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Flare:DataDirectory", _dir.Path);
        foreach (var (key, value) in TestProvider.Configuration(_dir.Path))
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("Flare:Demo", demo ? "true" : "false");
        builder.UseSetting("Flare:HostEmulator", "false");
        builder.UseSetting("Flare:DemoTrafficPerSecond", "0");
        builder.UseSetting("Flare:Admin:UserName", AdminCredentials.UserName);
        builder.UseSetting("Flare:Admin:Password", AdminCredentials.Password);
        builder.UseSetting("Flare:AdminToken", AdminCredentials.Token);
        builder.UseEnvironment("Testing");
    }

    /// <summary>A client that is the administrator on <c>/api</c> and <c>/jobs</c> (hides the base class's credential-less one).</summary>
    public new HttpClient CreateClient() => CreateDefaultClient(new AdminTokenHandler());

    /// <summary>A client with no credentials at all.</summary>
    public HttpClient CreateAnonymousClient() => base.CreateClient();

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }
}
