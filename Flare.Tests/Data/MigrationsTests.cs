using Flare.Data.Demo;
using Flare.Data.Registry;
using Flare.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace Flare.Tests.Data;

public sealed class MigrationsTests
{
    [Fact]
    public async Task Model_HasNoChangesMissingFromTheCommittedMigrations()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var ctx = await db.CreateContextAsync();

        // The suite's provider's migrations (TestProvider): the SQLite pass checks migrations/Sqlite, the PostgreSQL pass migrations/Postgres.
        Assert.False(ctx.Database.HasPendingModelChanges(),
            $"The EF model changed without a {TestProvider.Current} migration: add one for each provider with the two dotnet ef migrations add commands in the README.");
        Assert.Empty(await ctx.Database.GetPendingMigrationsAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task DemoFleet_SeedsOnce_AndNeverOverEdits()
    {
        await using var db = await TestDatabase.CreateAsync();
        var ct = TestContext.Current.CancellationToken;
        await using (var ctx = await db.CreateContextAsync())
        {
            Assert.True(await DemoFleet.SeedOnceAsync(ctx, "http://127.0.0.1:5481", TimeProvider.System, ct));
        }

        var gpu = (await db.Store.ListGpuTypesAsync(ct)).First();
        await db.Store.SetPoolCountAsync(gpu.Id, 17, ct);
        var deployments = await db.Store.ListDeploymentsAsync(ct);
        await db.Store.DeleteDeploymentAsync(deployments[0].Id, ct);

        await using (var ctx = await db.CreateContextAsync())
        {
            Assert.False(await DemoFleet.SeedOnceAsync(ctx, "http://127.0.0.1:5481", TimeProvider.System, ct));
        }

        Assert.Equal(17, (await db.Store.GetGpuTypeAsync(gpu.Id, ct)).Value!.PoolCount);
        Assert.Equal(deployments.Count - 1, (await db.Store.ListDeploymentsAsync(ct)).Count);
    }

    [Fact]
    public async Task DemoFleet_IsRealisticAndFitsItsGpus()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using (var ctx = await db.CreateContextAsync())
        {
            await DemoFleet.SeedOnceAsync(ctx, "http://127.0.0.1:5481", TimeProvider.System, TestContext.Current.CancellationToken);
        }

        var deployments = await db.Store.ListDeploymentsAsync(TestContext.Current.CancellationToken);
        Assert.True(deployments.Count >= 4);
        Assert.All(deployments, d => Assert.Empty(d.Warnings));
        Assert.All(deployments, d => Assert.Equal(Flare.Routing.Registry.DeploymentKind.Emulated, d.Kind));
        var gpus = await db.Store.ListGpuTypesAsync(TestContext.Current.CancellationToken);
        Assert.All(gpus, g => Assert.True(g.GpusInUse <= g.PoolCount, $"{g.Name}: {g.GpusInUse} in use > {g.PoolCount} in pool"));
    }

    [Fact]
    public async Task DemoFleet_RegistryAlreadyHasData_SkipsForGood()
    {
        await using var db = await TestDatabase.CreateAsync();
        await db.Store.CreateGpuTypeAsync(Samples.A100, TestContext.Current.CancellationToken);
        await using var ctx = await db.CreateContextAsync();

        Assert.False(await DemoFleet.SeedOnceAsync(ctx, "http://x", TimeProvider.System, TestContext.Current.CancellationToken));
        Assert.Single(await db.Store.ListGpuTypesAsync(TestContext.Current.CancellationToken));
        Assert.True(await ctx.InstallationFacts.AnyAsync(f => f.Key == DemoFleet.SeededFactKey, TestContext.Current.CancellationToken));
    }
}
