namespace Flare.Web.Explorer;

public static class ExplorerHosting
{
    /// <summary>
    /// The Pareto explorer: its options and the workload sample it solves on, built in the background from the routing
    /// history, the registry and the fitted profiles. Apply and the live point are optional services
    /// (<see cref="IOperatingPointApplier"/>, <see cref="ILiveOperatingPoint"/>) the explorer uses when they are registered.
    /// </summary>
    public static void AddFlareExplorer(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ExplorerOptions>()
            .BindConfiguration(ExplorerOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<ExplorerWorkloadService>();
    }
}
