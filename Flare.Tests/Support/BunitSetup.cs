using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Flare.Tests.Support;

/// <summary>A bUnit context with MudBlazor's services and providers and the registry on a real database.</summary>
public static class BunitSetup
{
    public static BunitContext Create(TestDatabase db, Action<IServiceCollection>? services = null)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddSingleton(db.Store);
        ctx.Services.AddSingleton(db.Changes);
        ctx.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new Flare.Web.Hosting.FlareOptions()));

        // What the live pages read (the overview on Home): an empty fleet's routing state, its meter, no profiles.
        var routing = new Flare.Web.Gateway.RoutingState([new Flare.Routing.Routing.LeastOutstandingPolicy()]);
        var metrics = new Flare.Web.Gateway.FlareMetrics(routing);
        ctx.Services.AddSingleton(TimeProvider.System);
        ctx.Services.AddSingleton(routing);
        ctx.Services.AddSingleton(metrics);
        ctx.Services.AddSingleton(new Flare.Web.Traffic.TrafficMonitor(metrics, TimeProvider.System));
        ctx.Services.AddSingleton<Flare.Routing.Profiles.IProfileSource>(new StaticProfileSource());
        services?.Invoke(ctx.Services);
        ctx.Render<MudPopoverProvider>();
        ctx.Render<MudSnackbarProvider>();
        return ctx;
    }
}
