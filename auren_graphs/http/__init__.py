"""AUREN's own HTTP surface, mounted by the LangGraph server (`http.app`)."""
