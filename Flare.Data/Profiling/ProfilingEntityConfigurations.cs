using Flare.Data.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Flare.Data.Profiling;

// A deployment's runs, samples, fits and schedule go with it when it is deleted.
internal sealed class ProfileRunConfiguration : IEntityTypeConfiguration<ProfileRunEntity>
{
    public void Configure(EntityTypeBuilder<ProfileRunEntity> b)
    {
        b.ToTable("ProfileRuns");
        b.Property(x => x.Source).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.Status).HasConversion<string>().HasMaxLength(20);
        b.Property(x => x.Settings).HasMaxLength(20_000);
        b.Property(x => x.Message).HasMaxLength(20_000);
        b.Property(x => x.JobId).HasMaxLength(100);
        b.HasIndex(x => new { x.DeploymentId, x.Status });
        b.HasOne(x => x.Deployment).WithMany().HasForeignKey(x => x.DeploymentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProfileSampleConfiguration : IEntityTypeConfiguration<ProfileSampleEntity>
{
    public void Configure(EntityTypeBuilder<ProfileSampleEntity> b)
    {
        b.ToTable("ProfileSamples");
        b.Property(x => x.Error).HasMaxLength(1000);
        b.HasIndex(x => new { x.RunId, x.CellIndex });
        b.HasOne<ProfileRunEntity>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProfileCellConfiguration : IEntityTypeConfiguration<ProfileCellEntity>
{
    public void Configure(EntityTypeBuilder<ProfileCellEntity> b)
    {
        b.ToTable("ProfileCells");
        b.HasKey(x => new { x.RunId, x.CellIndex });
        b.HasOne<ProfileRunEntity>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProfileFitConfiguration : IEntityTypeConfiguration<ProfileFitEntity>
{
    public void Configure(EntityTypeBuilder<ProfileFitEntity> b)
    {
        b.ToTable("ProfileFits");
        b.Property(x => x.Quality).HasMaxLength(10_000);
        b.Property(x => x.CostBasis).HasMaxLength(500);
        b.HasIndex(x => new { x.DeploymentId, x.Version }).IsUnique();
        b.HasOne<DeploymentEntity>().WithMany().HasForeignKey(x => x.DeploymentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<ProfileRunEntity>().WithMany().HasForeignKey(x => x.RunId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class ProfileScheduleConfiguration : IEntityTypeConfiguration<ProfileScheduleEntity>
{
    public void Configure(EntityTypeBuilder<ProfileScheduleEntity> b)
    {
        b.ToTable("ProfileSchedules");
        b.HasKey(x => x.DeploymentId);
        b.Property(x => x.DeploymentId).ValueGeneratedNever();
        b.Property(x => x.Cron).HasMaxLength(200).IsRequired();
        b.Property(x => x.Settings).HasMaxLength(20_000);
        b.HasOne<DeploymentEntity>().WithMany().HasForeignKey(x => x.DeploymentId).OnDelete(DeleteBehavior.Cascade);
    }
}
