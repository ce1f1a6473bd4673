using Flare.Routing.Routing;
using Flare.Web.Gateway;

namespace Flare.Tests.Web.Gateway;

public sealed class PrometheusExporterTests
{
    [Fact]
    public void ObservableCounter_RendersItsRunningTotal_OnEveryScrape()
    {
        using var metrics = new FlareMetrics(new RoutingState([new LeastOutstandingPolicy()]));
        var dropped = 5L;
        metrics.Meter.CreateObservableCounter("flare_request_log_dropped", () => dropped, description: "Lost rows.");
        var exporter = new PrometheusExporter(metrics);

        Assert.Contains("flare_request_log_dropped_total 5\n", exporter.Render());
        dropped = 7;
        var second = exporter.Render();

        // The counter reports a total: a scrape shows it, not the sum of every scrape so far (12).
        Assert.Contains("# TYPE flare_request_log_dropped_total counter\n", second);
        Assert.Contains("flare_request_log_dropped_total 7\n", second);
    }
}
