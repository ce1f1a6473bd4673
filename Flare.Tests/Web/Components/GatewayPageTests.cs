using Bunit;
using Flare.Data.Gateway;
using Flare.Tests.Support;
using Flare.Web.Components.Pages;
using Flare.Web.Gateway;
using Flare.Web.Traffic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flare.Tests.Web.Components;

public sealed class GatewayPageTests : ComponentTestBase
{
    protected override void AddServices(IServiceCollection services)
    {
        var routing = new RoutingState([new Flare.Routing.Routing.LeastOutstandingPolicy()]);
        var metrics = new FlareMetrics(routing);
        services.AddSingleton(Db.Services.GetRequiredService<ApiKeyStore>());
        services.AddSingleton(Db.Services.GetRequiredService<ApiKeyChangeSignal>());
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(routing);
        services.AddSingleton(metrics);
        services.AddSingleton(new TrafficMonitor(metrics, TimeProvider.System));
        services.AddSingleton(new RequestLogWriter(null!, Options.Create(new GatewayOptions()), NullLogger<RequestLogWriter>.Instance));
    }

    [Fact]
    public async Task ApiKeys_Create_ShowsTheSecretOnceAndStoresOnlyItsHash()
    {
        var cut = Ctx.Render<ApiKeys>();

        cut.Find("#key-name").Input("support-bot");
        cut.Find("#key-rpm").Input("60");
        await cut.Find("[data-testid=create-key]").ClickAsync(new());

        var secret = cut.WaitForElement("[data-testid=new-key] pre").TextContent.Trim();
        Assert.StartsWith(ApiKeyStore.SecretPrefix, secret);
        var stored = Assert.Single(await Db.Services.GetRequiredService<ApiKeyStore>().ActiveKeysAsync());
        Assert.Equal(ApiKeyStore.Hash(secret), stored.KeyHash);
        Assert.Equal(60, stored.RequestsPerMinute);
        Assert.Contains("support-bot", cut.Find("[data-testid=key-table]").TextContent);
    }

    [Fact]
    public async Task ApiKeys_ZeroLimit_FieldError()
    {
        var cut = Ctx.Render<ApiKeys>();

        cut.Find("#key-name").Input("x");
        cut.Find("#key-tpm").Input("0");
        await cut.Find("[data-testid=create-key]").ClickAsync(new());

        cut.WaitForAssertion(() => Assert.Contains("Tokens per minute must be at least 1", cut.Markup));
        Assert.Empty(await Db.Services.GetRequiredService<ApiKeyStore>().ActiveKeysAsync());
    }

    [Fact]
    public void Traffic_NoRequestsYet_SaysHowToSendOne()
    {
        var cut = Ctx.Render<Traffic>();

        Assert.Contains("No requests yet", cut.Markup);
        Assert.Equal("0.0", cut.Find("[data-testid=stat-rps]").TextContent);
    }
}
