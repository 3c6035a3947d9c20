"""dibao-audit: audits minimum-living-allowance rolls."""
