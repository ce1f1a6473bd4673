using Flare.Data.Registry;
using Flare.Tests.Support;
using Flare.Web.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Flare.Tests.Web.Browser;

/// <summary>An operator computes a routing plan and applies it, in real Chromium against Flare on real Kestrel.</summary>
[Collection(nameof(HostCollection))]
public sealed class PlansBrowserTests() : BrowserTest(demo: false)
{
    [Fact]
    public async Task Operator_ComputesAPlan_AppliesItAfterConfirming_AndSeesItLive()
    {
        await Samples.FleetAsync(Server.Services.GetRequiredService<RegistryStore>());
        var page = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        await page.GotoAsync(new Uri(Server.BaseAddress, "plans").ToString());
        await page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });

        await page.GetByTestId("plan-policy").ClickAsync(); // MudSelect opens on mousedown; the test id is on its input
        await page.Locator(".mud-popover-open .mud-list-item").GetByText("cheapest", new() { Exact = true }).ClickAsync();
        await page.Locator("#plan-reason").FillAsync("cut cost overnight");
        await page.GetByTestId("compute-plan").ClickAsync();

        var row = page.GetByTestId("plan-1");
        await Expect(row.GetByTestId("plan-status")).ToHaveTextAsync("Ready", new() { Timeout = 30_000 });
        await Expect(row).ToContainTextAsync("llama-8b@a100 100%");
        await Expect(page.GetByTestId("plan-1-basis").GetByTestId("plan-note").First).ToBeVisibleAsync();

        await page.Locator("#change-reason").FillAsync("cheapest for the night shift");
        await page.GetByTestId("apply-1").ClickAsync();
        var dialog = page.Locator(".mud-dialog");
        await Expect(dialog).ToContainTextAsync("Apply plan 1 (cheapest)?");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Apply", Exact = true }).ClickAsync();

        await Expect(row.GetByTestId("live-marker")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("live-plan")).ToContainTextAsync("Live: plan 1 · cheapest");
        await Expect(page.GetByTestId("activation-table")).ToContainTextAsync("cheapest for the night shift");
        Assert.Equal(1, Server.Services.GetRequiredService<RoutingState>().Plans.Live.Version);
        await Artifacts.ScreenshotAsync(page, "plans");
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);
}
