using Hangfire;
using Hangfire.InMemory;

namespace Flare.Web.Hosting;

/// <summary>Background jobs: Hangfire with in-memory storage by default, its dashboard at <c>/jobs</c>.</summary>
public static class JobsHosting
{
    public const string DashboardPath = "/jobs";

    public static void AddFlareJobs(this WebApplicationBuilder builder)
    {
        builder.Services.AddHangfire(c => c
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseInMemoryStorage(new InMemoryStorageOptions { MaxExpirationTime = TimeSpan.FromDays(1) }));
        builder.Services.AddHangfireServer(o =>
        {
            o.WorkerCount = Math.Max(2, Environment.ProcessorCount);
            o.ServerName = $"flare-{Environment.MachineName}-{Environment.ProcessId}";
        });
    }

    /// <summary>
    /// The dashboard needs a signed-in administrator like every page (the endpoint falls under the
    /// fallback policy), and its own filter says the same, replacing Hangfire's default, which lets any
    /// loopback request in.
    /// </summary>
    public static void MapFlareJobsDashboard(this WebApplication app) =>
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            DashboardTitle = "Flare jobs",
            AppPath = "/",
            Authorization = [new AdminDashboardAuthorization()],
        });

    private sealed class AdminDashboardAuthorization : Hangfire.Dashboard.IDashboardAuthorizationFilter
    {
        public bool Authorize(Hangfire.Dashboard.DashboardContext context) =>
            Hangfire.Dashboard.AspNetCoreDashboardContextExtensions.GetHttpContext(context).User.IsInRole(Security.FlareAuth.AdminRole);
    }
}
