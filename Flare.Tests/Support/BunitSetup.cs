using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using MudBlazor.Services;

namespace Flare.Tests.Support;

/// <summary>A bUnit context with MudBlazor's services and providers and the registry on a real SQLite file.</summary>
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
        services?.Invoke(ctx.Services);
        ctx.Render<MudPopoverProvider>();
        ctx.Render<MudSnackbarProvider>();
        return ctx;
    }
}
