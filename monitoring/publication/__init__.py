"""The public status page: cases published with both approvals, their public facts, feed and open data."""
