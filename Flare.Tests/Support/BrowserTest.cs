namespace Flare.Tests.Support;

/// <summary>
/// A browser test's world: Flare on real Kestrel in a data directory of its own, and Chromium, both started before each
/// test and stopped after it.
/// </summary>
/// <param name="demo">Seed the demo fleet.</param>
/// <param name="flareArgs">More of Flare's command line (settings).</param>
public abstract class BrowserTest(bool demo, params string[] flareArgs) : IAsyncLifetime
{
    private readonly TempDirectory _dir = new();

    protected BrowserFixture Browser { get; } = new();

    protected FlareServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Server = new FlareServer(_dir.Path, demo, flareArgs);
        await Server.StartAsync(TestContext.Current.CancellationToken);
        await Browser.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Browser.DisposeAsync();
            await Server.DisposeAsync();
        }
        finally
        {
            // Also when the host failed to stop: the folder goes, and on PostgreSQL the test's database with it.
            _dir.Dispose();
            GC.SuppressFinalize(this);
        }
    }
}
