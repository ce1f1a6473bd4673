using Flare.Data;
using Flare.Data.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Support;

/// <summary>A real, migrated database on the suite's provider (<see cref="TestProvider"/>) with the stores on top, for tests below the web host.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly TempDirectory _dir;

    private TestDatabase(ServiceProvider services, TempDirectory dir)
    {
        Services = services;
        _dir = dir;
    }

    public ServiceProvider Services { get; }
    public RegistryStore Store => Services.GetRequiredService<RegistryStore>();
    public RegistryChangeSignal Changes => Services.GetRequiredService<RegistryChangeSignal>();

    public static async Task<TestDatabase> CreateAsync()
    {
        var dir = new TempDirectory();
        var services = new ServiceCollection().AddFlareDatabase(_ => TestProvider.Settings(dir.Path)).BuildServiceProvider();
        var db = new TestDatabase(services, dir);
        await using var ctx = await db.CreateContextAsync();
        await ctx.MigrateAsync();
        return db;
    }

    public Task<FlareDbContext> CreateContextAsync() =>
        Services.GetRequiredService<IDbContextFactory<FlareDbContext>>().CreateDbContextAsync();

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        _dir.Dispose();
    }
}
