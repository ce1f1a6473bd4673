using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace Flare.Tests.Support;

/// <summary>A bUnit context over a real, migrated registry database (the suite's provider), created and disposed per test.</summary>
public abstract class ComponentTestBase : IAsyncLifetime
{
    protected TestDatabase Db { get; private set; } = null!;
    protected BunitContext Ctx { get; private set; } = null!;

    /// <summary>Services a test class needs beyond the registry and MudBlazor's.</summary>
    protected virtual void AddServices(IServiceCollection services) { }

    /// <summary>Anything else a test class sets on the context (component stubs, …), after it is created.</summary>
    protected virtual void Configure(BunitContext ctx) { }

    public async ValueTask InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync();
        Ctx = BunitSetup.Create(Db, AddServices);
        Configure(Ctx);
    }

    public async ValueTask DisposeAsync()
    {
        await Ctx.DisposeAsync();
        await Db.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
