using System.Text;
using Flare.Data.History;
using Flare.Data.Registry;
using Flare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Flare.Tests.Web.Browser;

/// <summary>An operator imports a routing history in real Chromium against Flare on real Kestrel.</summary>
[Collection(nameof(HostCollection))]
public sealed class HistoryBrowserTests() : BrowserTest(demo: false)
{
    [Fact]
    public async Task Operator_UploadsAHistory_WatchesItsProgress_ReadsItsIssues_AndMapsAModel()
    {
        var registry = Server.Services.GetRequiredService<RegistryStore>();
        await registry.CreateModelAsync(Samples.Llama8B with { Name = "Alpha" });
        var beta = (await registry.CreateModelAsync(Samples.Llama70B with { Name = "Beta-Registry" })).Value!;

        // Thousands of rows of a mapped model, so the import (each batch embedded and indexed) runs long enough to watch.
        var lines = Enumerable.Range(0, 6000).Select(i =>
            $"{{\"prompt\": \"Question {i}: how do I {Topics[i % Topics.Length]} step {i % 97}?\", \"scores\": {{\"alpha\": {i % 2}, \"beta\": 0.5}}}}").ToList();
        lines.Insert(2, "this line is not JSON");
        var page = await Browser.NewSignedInPageAsync(Server.BaseAddress);
        await OpenAsync(page, "history");
        await Expect(page.GetByTestId("history-empty")).ToBeVisibleAsync();

        await ChooseAsync(page, "upload-format", "Generic JSON Lines");
        await page.Locator("input[type=file]").Nth(1).SetInputFilesAsync(new FilePayload
        {
            Name = "howto.jsonl",
            MimeType = "application/x-ndjson",
            Buffer = Encoding.UTF8.GetBytes(string.Join('\n', lines)),
        });

        await Expect(page.GetByTestId("import-progress")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Artifacts.ScreenshotAsync(page, "history-import-progress");
        await Expect(page.GetByTestId("dataset-status")).ToHaveTextAsync("Completed", new() { Timeout = 120_000 });
        await Expect(page.GetByTestId("import-progress")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("rows-imported")).ToHaveTextAsync("6,000");
        await Expect(page.GetByTestId("rows-rejected")).ToHaveTextAsync("1");

        // The detail opened on upload: the bad line by number, and beta flagged as unmapped.
        await Expect(page.GetByTestId("issue-table").GetByText("not a JSON object")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("issue-line").GetByText("3", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(page.GetByTestId("map-beta").GetByTestId("unmapped")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("map-alpha").GetByTestId("unmapped")).ToHaveCountAsync(0);

        await ChooseAsync(page, "map-select-beta", "Beta-Registry");
        await page.GetByTestId("save-mapping").ClickAsync();
        await Expect(page.GetByTestId("map-beta").GetByTestId("unmapped")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("unmapped-count")).ToHaveCountAsync(0);
        await Artifacts.ScreenshotAsync(page, "history-mapped");

        var dataset = Assert.Single(await Server.Services.GetRequiredService<HistoryStore>().ListDatasetsAsync());
        var map = (await Server.Services.GetRequiredService<HistoryStore>().GetModelMapAsync(dataset.Id)).Value!;
        Assert.Equal(beta.Id, map.Single(m => m.DatasetModel == "beta").RegistryModelId);
    }

    private static readonly string[] Topics = ["sort a list", "bake bread", "fix a bike", "plant tomatoes", "write a cover letter", "tie a knot"];

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    private async Task OpenAsync(IPage page, string path)
    {
        await page.GotoAsync(new Uri(Server.BaseAddress, path).ToString());
        await page.Locator("[data-flare-interactive=true]").WaitForAsync(new() { Timeout = 15_000 });
    }

    /// <summary>Opens a MudSelect (it opens on mousedown) and picks the item with this text.</summary>
    private static async Task ChooseAsync(IPage page, string testId, string item)
    {
        await page.GetByTestId(testId).ClickAsync(); // the combobox input itself carries the test id
        await page.Locator(".mud-popover-open .mud-list-item").GetByText(item, new() { Exact = false }).First.ClickAsync();
        await Expect(page.Locator(".mud-popover-open")).ToHaveCountAsync(0);
    }
}
