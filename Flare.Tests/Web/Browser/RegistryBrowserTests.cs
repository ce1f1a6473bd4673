using Flare.Tests.Support;
using Microsoft.Playwright;

namespace Flare.Tests.Web.Browser;

/// <summary>What an operator does in the browser, in real Chromium against Flare on real Kestrel.</summary>
[Collection(nameof(HostCollection))]
public sealed class RegistryBrowserTests() : BrowserTest(demo: false)
{
    [Fact]
    public async Task Operator_RegistersGpuModelAndDeployment_SeesValidation_AndDataPersists()
    {
        var page = await Browser.NewSignedInPageAsync(Server.BaseAddress);

        // A GPU type, first with a bad value.
        await OpenAsync(page, "gpus");
        await page.GetByTestId("add-gpu-type").ClickAsync();
        await page.Locator("#gpu-name").FillAsync("T4-16GB");
        await page.Locator("#gpu-memory").FillAsync("-16");
        await page.Locator("#gpu-price").FillAsync("0.35");
        await page.Locator("#gpu-tflops").FillAsync("65");
        await page.Locator("#gpu-bandwidth").FillAsync("320");
        await page.Locator("#gpu-pool").FillAsync("2");
        await page.GetByTestId("save").ClickAsync();
        var memoryError = page.Locator(".mud-input-control", new() { Has = page.Locator("#gpu-memory") }).GetByText("Memory must be greater than 0.");
        await Expect(memoryError).ToBeVisibleAsync();
        await Artifacts.ScreenshotAsync(page, "registry-gpu-validation");

        await page.Locator("#gpu-memory").FillAsync("16");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("gpu-type-editor")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("gpu-table").GetByText("T4-16GB")).ToBeVisibleAsync();

        // A model.
        await OpenAsync(page, "models");
        await page.GetByTestId("add-model").ClickAsync();
        await page.Locator("#model-name").FillAsync("phi-3-mini-4k-instruct");
        await page.Locator("#model-family").FillAsync("Phi-3");
        await page.Locator("#model-params").FillAsync("3.8");
        await page.Locator("#model-context").FillAsync("4096");
        await page.Locator("#model-tags").FillAsync("chat, small");
        await page.GetByTestId("save").ClickAsync();
        await Expect(page.GetByTestId("model-table").GetByText("phi-3-mini-4k-instruct")).ToBeVisibleAsync();

        // A deployment of it on the new GPU type.
        await OpenAsync(page, "deployments");
        await page.GetByTestId("add-deployment").ClickAsync();
        await page.Locator("#deployment-name").FillAsync("phi-3@t4");
        await ChooseAsync(page, "deployment-model", "phi-3-mini-4k-instruct");
        await ChooseAsync(page, "deployment-gpu", "T4-16GB");
        await page.Locator("#deployment-url").FillAsync("http://10.1.2.3:8000/v1");
        await page.Locator("#deployment-key").FillAsync("sk-browser-test-secret-1234");
        await Expect(page.Locator("#deployment-served")).ToHaveValueAsync("phi-3-mini-4k-instruct");
        await page.GetByTestId("save").ClickAsync();
        var table = page.GetByTestId("deployment-table");
        await Expect(table.GetByText("phi-3@t4")).ToBeVisibleAsync();
        await Expect(table.GetByText("••••1234")).ToBeVisibleAsync();
        await Artifacts.ScreenshotAsync(page, "registry-deployments");

        // Reload: everything is still there, read back from the database.
        await page.ReloadAsync();
        await WaitInteractiveAsync(page);
        await Expect(page.GetByTestId("deployment-table").GetByText("phi-3@t4")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("deployment-table").GetByText("1 × T4-16GB")).ToBeVisibleAsync();
        Assert.DoesNotContain("sk-browser-test-secret", await page.ContentAsync());
        await OpenAsync(page, "gpus");
        await Expect(page.GetByTestId("gpu-table").GetByText("T4-16GB")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task Operator_DeletesModelWithDeployments_SeesWhyItIsRefused()
    {
        var store = (Flare.Data.Registry.RegistryStore)Server.Services.GetService(typeof(Flare.Data.Registry.RegistryStore))!;
        var (_, model, deployment) = await Samples.FleetAsync(store);
        var page = await Browser.NewSignedInPageAsync(Server.BaseAddress);

        await OpenAsync(page, "models");
        await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {model.Name}" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();

        await Expect(page.Locator(".mud-snackbar").GetByText(deployment.Name, new() { Exact = false })).ToBeVisibleAsync();
        Assert.True((await store.GetModelAsync(model.Id)).IsOk);
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(new Uri(Server.BaseAddress, path).ToString());
        await WaitInteractiveAsync(page);
    }

    /// <summary>Pages are prerendered, then become interactive when the Blazor circuit connects.</summary>
    private static Task WaitInteractiveAsync(IPage page) =>
        page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });

    /// <summary>Opens a MudSelect (it opens on mousedown) and picks the item with this text.</summary>
    private static async Task ChooseAsync(IPage page, string testId, string item)
    {
        await page.GetByTestId(testId).ClickAsync(); // the combobox input itself carries the test id
        await page.Locator(".mud-popover-open .mud-list-item").GetByText(item, new() { Exact = false }).First.ClickAsync();
        await Expect(page.Locator(".mud-popover-open")).ToHaveCountAsync(0);
    }
}
